//! An object id outside `src/git/`: what a commit or a tree is called, with
//! no git2 type in sight.

use std::fmt;
use std::str::FromStr;

use git2::Oid;

/// A git object id (a commit or a tree), 40 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub(crate) Oid);

impl Id {
    /// The first 12 hex digits, as the messages show an id.
    pub fn short(&self) -> String {
        self.0.to_string()[..12].to_string()
    }
}

impl From<Oid> for Id {
    fn from(o: Oid) -> Id {
        Id(o)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Not 40 (or 64) hex digits.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an object id")]
pub struct BadId(pub String);

impl FromStr for Id {
    type Err = BadId;
    fn from_str(s: &str) -> Result<Id, BadId> {
        let hex = s.len() == 40 || s.len() == 64;
        if !hex || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadId(s.to_string()));
        }
        Oid::from_str(s).map(Id).map_err(|_| BadId(s.to_string()))
    }
}
