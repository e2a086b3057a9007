//! One module per subcommand.

pub(crate) mod model;
pub(crate) mod transcribe;
