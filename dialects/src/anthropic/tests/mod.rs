//! Unit tests of the Messages translation.

mod answer;
mod request;
mod stream;
