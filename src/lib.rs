//! unibill
