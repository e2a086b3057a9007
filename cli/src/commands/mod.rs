//! One module per subcommand.

pub(crate) mod eval;
pub(crate) mod model;
pub(crate) mod transcribe;
