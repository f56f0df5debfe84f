//! Networks: magic, default port and chain dialect.
//!
//! The chain ([`Chain::Bitcoin`] or [`Chain::Decred`]) selects the checksum (double SHA-256 or
//! BLAKE-256), the global payload cap and the message set; the magic identifies the network on
//! the wire.

use core::fmt;

/// Which protocol family a network speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Bitcoin (btcd / Bitcoin Core wire protocol, checksum = double SHA-256).
    Bitcoin,
    /// Decred (dcrd wire protocol, checksum = BLAKE-256).
    Decred,
}

impl Chain {
    /// Largest payload a frame may announce on this chain (WIRE.md 1.6).
    pub const fn max_frame_payload(self) -> u32 {
        match self {
            Chain::Bitcoin => 4_000_000,
            Chain::Decred => 32 * 1024 * 1024,
        }
    }
}

/// A network: chain dialect, 4-byte magic and default port.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    chain: Chain,
    magic: u32,
    port: u16,
    name: &'static str,
}

impl Network {
    /// Bitcoin mainnet.
    pub const BITCOIN_MAINNET: Network = Network::new(Chain::Bitcoin, 0xd9b4_bef9, 8333, "mainnet");
    /// Bitcoin testnet3.
    pub const BITCOIN_TESTNET3: Network =
        Network::new(Chain::Bitcoin, 0x0709_110b, 18333, "testnet3");
    /// Bitcoin testnet4.
    pub const BITCOIN_TESTNET4: Network =
        Network::new(Chain::Bitcoin, 0x283f_161c, 48333, "testnet4");
    /// Bitcoin default signet.
    pub const BITCOIN_SIGNET: Network = Network::new(Chain::Bitcoin, 0x40cf_030a, 38333, "signet");
    /// Bitcoin regtest.
    pub const BITCOIN_REGTEST: Network =
        Network::new(Chain::Bitcoin, 0xdab5_bffa, 18444, "regtest");
    /// btcd's simnet.
    pub const BITCOIN_SIMNET: Network = Network::new(Chain::Bitcoin, 0x1214_1c16, 18555, "simnet");
    /// Decred mainnet.
    pub const DECRED_MAINNET: Network =
        Network::new(Chain::Decred, 0xd9b4_00f9, 9108, "decred-mainnet");
    /// Decred testnet3.
    pub const DECRED_TESTNET3: Network =
        Network::new(Chain::Decred, 0xb194_aa75, 19108, "decred-testnet3");
    /// Decred simnet (same magic as btcd's simnet).
    pub const DECRED_SIMNET: Network =
        Network::new(Chain::Decred, 0x1214_1c16, 18555, "decred-simnet");
    /// Decred regnet.
    pub const DECRED_REGNET: Network =
        Network::new(Chain::Decred, 0xdab5_00fa, 18655, "decred-regnet");

    /// Every predefined network.
    pub const ALL: [Network; 10] = [
        Network::BITCOIN_MAINNET,
        Network::BITCOIN_TESTNET3,
        Network::BITCOIN_TESTNET4,
        Network::BITCOIN_SIGNET,
        Network::BITCOIN_REGTEST,
        Network::BITCOIN_SIMNET,
        Network::DECRED_MAINNET,
        Network::DECRED_TESTNET3,
        Network::DECRED_SIMNET,
        Network::DECRED_REGNET,
    ];

    /// A network from its parts (e.g. a private test network).
    pub const fn new(chain: Chain, magic: u32, port: u16, name: &'static str) -> Network {
        Network {
            chain,
            magic,
            port,
            name,
        }
    }

    /// A Bitcoin signet with a custom challenge script: the magic is the first four bytes of
    /// `SHA256d(len(challenge) || challenge)` (challenges up to 252 bytes).
    pub fn custom_signet(challenge: &[u8]) -> Option<Network> {
        let len = u8::try_from(challenge.len()).ok().filter(|l| *l < 0xfd)?;
        let hash = crate::wire::sha256d_parts(&[&[len], challenge]);
        let magic = u32::from_le_bytes([hash[0], hash[1], hash[2], hash[3]]);
        Some(Network::new(Chain::Bitcoin, magic, 38333, "signet-custom"))
    }

    /// Looks a predefined network up by name (`mainnet`, `testnet3`, `decred-simnet`, …).
    pub fn from_name(name: &str) -> Option<Network> {
        Network::ALL.iter().copied().find(|n| n.name == name)
    }

    /// The chain dialect.
    pub const fn chain(&self) -> Chain {
        self.chain
    }

    /// The magic as a little-endian `u32` (as btcd writes it).
    pub const fn magic(&self) -> u32 {
        self.magic
    }

    /// The magic as it appears on the wire.
    pub const fn magic_bytes(&self) -> [u8; 4] {
        self.magic.to_le_bytes()
    }

    /// Default TCP port.
    pub const fn default_port(&self) -> u16 {
        self.port
    }

    /// Short name, as accepted by [`Network::from_name`].
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:#010x})", self.name, self.magic)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_match_the_wire() {
        assert_eq!(
            Network::BITCOIN_MAINNET.magic_bytes(),
            [0xf9, 0xbe, 0xb4, 0xd9]
        );
        assert_eq!(
            Network::DECRED_MAINNET.magic_bytes(),
            [0xf9, 0x00, 0xb4, 0xd9]
        );
        assert_eq!(
            Network::from_name("testnet4"),
            Some(Network::BITCOIN_TESTNET4)
        );
        assert_eq!(Network::from_name("nope"), None);
    }

    #[test]
    fn default_signet_challenge_gives_default_magic() {
        // The default signet challenge: a 1-of-2 multisig script.
        let hex = "512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae";
        let challenge: alloc::vec::Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let net = Network::custom_signet(&challenge).unwrap();
        assert_eq!(net.magic(), Network::BITCOIN_SIGNET.magic());
    }
}
