//! Message bodies, one file per family.

pub mod addr;
pub mod block;
pub mod bloom;
pub mod cfilter;
pub mod compact;
pub mod reject;
pub mod tx;
pub mod version;
