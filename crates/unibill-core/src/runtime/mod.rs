//! The caller-facing runtime: the `CustomerUpdater` calls with their lock
//! contract, reference resolution, bulk runs and portability checks, built
//! on the backend hooks.

pub mod bulk;
pub mod portable;
pub mod updater;
