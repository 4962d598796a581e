//! placeholder until the mock lands
