//! Running SQL on this backend: the transaction guard (`tx`), SPI with kept plans (`spi`)
//! and the statement timeout. A leaf: it knows nothing of requests or the schema cache.

mod spi;
mod timeout;
mod tx;

pub use spi::{forget_plans, query, query_bytes};
pub use tx::{transaction, Tx};
