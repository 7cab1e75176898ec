//! The caller's model: customers, patches, fields and their values, what a
//! backend can do with each field. Imports nothing from the backend kit or
//! the runtime.

pub mod attribute;
pub mod capability;
pub mod change;
pub mod check;
pub mod customer;
pub mod field;
pub mod kind;
pub mod listing;
pub mod patch;
pub mod reference;
pub mod status;
pub mod update;
pub mod values;
