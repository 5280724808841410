//! Lot balances: exact decimals, and the change each movement makes to one.

use serde::{Deserialize, Serialize};

use super::{Kind, NewMovement};

/// A lot balance at one location in one unit: an exact decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The balance's digits as one integer: the value is `mantissa ×
    /// 10^-scale`, so 12.5 kg is 125 at scale 1.
    pub mantissa: i128,
    /// How many of `mantissa`'s digits come after the decimal point (0 for a
    /// count of units).
    pub scale: u8,
}

impl Balance {
    /// Nothing at all: where every lot balance starts before its first
    /// movement.
    pub const ZERO: Balance = Balance {
        mantissa: 0,
        scale: 0,
    };

    /// Adds `mantissa * 10^-scale`, keeping the finer scale. Saturates
    /// rather than panicking: a balance that large is already nonsense and
    /// verify still compares like with like.
    pub fn add(self, mantissa: i128, scale: u8) -> Balance {
        let target = self.scale.max(scale);
        let up =
            |m: i128, from: u8| m.saturating_mul(10i128.saturating_pow(u32::from(target - from)));
        Balance {
            mantissa: up(self.mantissa, self.scale).saturating_add(up(mantissa, scale)),
            scale: target,
        }
    }
}

/// `n` with the sign a movement of `kind` gives it: arrivals add, departures
/// take away whatever sign was scanned, adjustments and corrections carry
/// their own sign.
pub fn signed(kind: Kind, n: i128) -> i128 {
    match kind.direction() {
        1 => n.abs(),
        -1 => -n.abs(),
        _ => n,
    }
}

/// The change a movement makes to the balance of its lot, location and
/// unit (`Quantity::unit`): (mantissa, scale).
pub fn delta(m: &NewMovement) -> (i128, u8) {
    let (mantissa, scale, _) = m.quantity.parts();
    (signed(m.kind, mantissa), scale)
}
