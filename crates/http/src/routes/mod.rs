//! The routes of the contract, one module per resource family.

pub mod admin;
pub mod foods;
pub mod logs;
pub mod ops;
