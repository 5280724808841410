//! The kinds of reference data head office publishes to its sites. A kind
//! is the domain's: the store keeps each in its own tree, the sync protocol
//! names each in its URLs, the station's rules read them; none of them
//! defines it.

/// A kind of reference data head office publishes; each has its own
/// version at head office and watermark at a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// The product master: GTINs, descriptions, tracking.
    Products,
    /// Holds and recalls: lots or serial ranges that may not be dispatched.
    Holds,
    /// Pick lists: orders, their lines and the lots they allow.
    PickLists,
}

impl Reference {
    /// Every kind, in the order a site pulls them.
    pub const ALL: [Reference; 3] = [Reference::Products, Reference::Holds, Reference::PickLists];
}
