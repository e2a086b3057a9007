//! tocky's core types, shared by every stage: transcripts with timed
//! segments and words, the Vietnamese text normalisation used to compare
//! and score them, and what the pipelines below the review server report
//! to it or answer it ([`live::LiveOutput`], [`retime::RetimeOutput`],
//! [`recognise::Recognise`]).

pub mod atomic;
pub mod document;
pub mod error;
pub mod live;
pub mod recognise;
pub mod render;
pub mod retime;
pub mod text;
pub mod transcribe;
pub mod transcript;
pub mod wer;

pub use transcript::{Segment, Transcript, Word};
