//! tocky's core types, shared by every stage: transcripts with timed
//! segments and words, the Vietnamese text normalisation used to compare
//! and score them, and what a live sitting reports ([`live::LiveOutput`]).

pub mod atomic;
pub mod document;
pub mod error;
pub mod live;
pub mod render;
pub mod text;
pub mod transcribe;
pub mod transcript;
pub mod wer;

pub use transcript::{Segment, Transcript, Word};
