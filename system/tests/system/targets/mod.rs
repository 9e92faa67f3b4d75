//! The app (`system::app()`) through the harness on each target: its hooks firing, the
//! cleanup of a run, recorder cases, and the stack's processes. They live here, not in
//! the harness, because the harness knows no app.

mod apps;
mod flow;
mod stack;
