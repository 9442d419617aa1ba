//! Type-directed generation of well-typed Pol programs and their inputs
//! (work in progress: see the crate description).
