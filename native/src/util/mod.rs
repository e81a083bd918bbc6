pub mod par;
pub mod rng;
