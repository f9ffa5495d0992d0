//! An IP address with a prefix as python-netaddr's `IPNetwork` holds it (the address as
//! written, not masked), parsed with its rules (`a.b.c.d[/prefix|/netmask|/hostmask]`, IPv6 as
//! `inet_pton` reads it) and printed as it prints addresses (glibc's `inet_ntop` for IPv6:
//! the first longest run of zeros compressed, `::a.b.c.d` and `::ffff:a.b.c.d` dotted).

use std::net::{Ipv4Addr, Ipv6Addr};

/// An address and a prefix length (`netaddr.IPNetwork`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    /// IPv6 rather than IPv4.
    pub v6: bool,
    /// The address as written (host bits kept).
    pub ip: u128,
    /// The prefix length, 0 to the width.
    pub prefix: u32,
}

impl Net {
    /// The address width in bits (32 or 128).
    pub fn width(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    /// The largest address of the family.
    pub fn max(&self) -> u128 {
        if self.v6 { u128::MAX } else { u128::from(u32::MAX) }
    }

    /// A network of the family with a value and prefix checked as netaddr's setters do.
    pub fn new(v6: bool, ip: u128, prefix: u32) -> Option<Net> {
        let n = Net { v6, ip, prefix };
        (ip <= n.max() && prefix <= n.width()).then_some(n)
    }

    /// The host bits (`hostmask` as an integer).
    pub fn hostmask(&self) -> u128 {
        let host_bits = self.width() - self.prefix;
        if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    /// The netmask as an integer.
    pub fn netmask(&self) -> u128 {
        self.max() ^ self.hostmask()
    }

    /// The first address (`network`/`first`).
    pub fn network(&self) -> u128 {
        self.ip & self.netmask()
    }

    /// The last address (`last`).
    pub fn last(&self) -> u128 {
        self.ip | self.hostmask()
    }

    /// `broadcast`: none for a /31, /32 (IPv4) or /127, /128 (IPv6).
    pub fn broadcast(&self) -> Option<u128> {
        (self.width() - self.prefix > 1).then(|| self.last())
    }

    /// The number of addresses; `None` for `::/0` (2**128).
    pub fn size(&self) -> Option<u128> {
        self.hostmask().checked_add(1)
    }

    /// `str(IPAddress)` of an address of this family.
    pub fn fmt_addr(&self, ip: u128) -> String {
        fmt_addr(self.v6, ip)
    }

    /// `str(IPNetwork)`: `ip/prefix`.
    pub fn cidr_text(&self) -> String {
        format!("{}/{}", self.fmt_addr(self.ip), self.prefix)
    }

    /// `str(v.cidr)`: `network/prefix`.
    pub fn subnet_text(&self) -> String {
        format!("{}/{}", self.fmt_addr(self.network()), self.prefix)
    }
}

/// `str(IPAddress(ip, version))`.
pub fn fmt_addr(v6: bool, ip: u128) -> String {
    if !v6 {
        return Ipv4Addr::from(ip as u32).to_string();
    }
    let w = Ipv6Addr::from(ip).segments();
    // The first longest run of at least two zero words, as glibc's inet_ntop picks it.
    let (mut best, mut cur): ((usize, usize), Option<usize>) = ((0, 0), None);
    for (i, &word) in w.iter().enumerate() {
        if word == 0 {
            let start = *cur.get_or_insert(i);
            if i + 1 - start > best.1 {
                best = (start, i + 1 - start);
            }
        } else {
            cur = None;
        }
    }
    if best.1 < 2 {
        best = (0, 0);
    }
    let dotted = best.0 == 0 && (best.1 == 6 || (best.1 == 5 && w[5] == 0xffff));
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if best.1 > 0 && i == best.0 {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best.1;
            continue;
        }
        if dotted && i == 6 {
            out.push_str(&Ipv4Addr::from(ip as u32).to_string());
            break;
        }
        out.push_str(&format!("{:x}", w[i]));
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out
}

/// An address of one family, strictly (`inet_pton`).
fn parse_addr(s: &str, v6: bool) -> Option<u128> {
    if v6 {
        s.parse::<Ipv6Addr>().ok().map(u128::from)
    } else {
        s.parse::<Ipv4Addr>().ok().map(|a| u128::from(u32::from(a)))
    }
}

/// Python's `int(s)` for the small integers prefixes are (surrounding blanks, a sign, `_`
/// between digits).
pub fn py_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// `netaddr.IPNetwork(text)`: IPv4 first, then IPv6.
pub fn parse_network(s: &str) -> Option<Net> {
    [false, true].into_iter().find_map(|v6| parse_family(s, v6))
}

fn parse_family(s: &str, v6: bool) -> Option<Net> {
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let ip = parse_addr(addr, v6)?;
    let width = if v6 { 128 } else { 32 };
    let prefix = match mask {
        None => width,
        Some(m) => match py_int(m) {
            Some(p) => u32::try_from(p).ok()?,
            None => {
                let mask = parse_addr(m, v6)?;
                let probe = Net { v6, ip: 0, prefix: 0 };
                let inverted = mask ^ probe.max();
                if inverted.wrapping_add(1) & inverted == 0 {
                    width - inverted.count_ones()
                } else if mask.wrapping_add(1) & mask == 0 {
                    width - mask.count_ones()
                } else {
                    return None;
                }
            }
        },
    };
    Net::new(v6, ip, prefix)
}

/// `IPAddress.reverse_dns`.
pub fn reverse_dns(v6: bool, ip: u128) -> String {
    if v6 {
        let nibbles: Vec<String> = (0..32).map(|i| format!("{:x}", (ip >> (i * 4)) & 0xf)).collect();
        format!("{}.ip6.arpa.", nibbles.join("."))
    } else {
        let o = (ip as u32).to_be_bytes();
        format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
    }
}

/// netaddr's `is_global()` (IANA's special-purpose registries as netaddr 1.3 lists them).
pub fn is_global(v6: bool, ip: u128) -> bool {
    let within = |list: &[&str]| {
        list.iter().any(|n| {
            parse_network(n).is_some_and(|net| net.v6 == v6 && net.network() <= ip && ip <= net.last())
        })
    };
    if v6 {
        !within(&[
            "::1/128",
            "::/128",
            "::ffff:0:0/96",
            "64:ff9b:1::/48",
            "100::/64",
            "2001::/23",
            "2001:db8::/32",
            "2002::/16",
            "fc00::/7",
            "fe80::/10",
        ]) || within(&[
            "2001:1::1/128",
            "2001:1::2/128",
            "2001:3::/32",
            "2001:4:112::/48",
            "2001:20::/28",
            "2001:30::/28",
        ])
    } else {
        !within(&[
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.0.170/31",
            "192.0.2.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "240.0.0.0/4",
            "255.255.255.255/32",
        ]) || within(&["192.0.0.9/32", "192.0.0.10/32"])
    }
}

/// Whether `ip` lies in the network written `net` (of the same family).
pub fn in_net(v6: bool, ip: u128, net: &str) -> bool {
    parse_network(net).is_some_and(|n| n.v6 == v6 && n.network() <= ip && ip <= n.last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_ipv6_as_netaddr() {
        // str(netaddr.IPAddress(x)) with netaddr 1.3.
        for (text, want) in [
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("::", "::"),
            ("::1", "::1"),
            ("1:0:0:0:1:0:0:0", "1::1:0:0:0"),
            ("::ffff:0:1", "::ffff:0.0.0.1"),
            ("0:0:0:0:0:1:0:0", "::1:0:0"),
            ("FE80::1", "fe80::1"),
            ("2001:db8:0:0:1::1", "2001:db8::1:0:0:1"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
        ] {
            let ip = parse_addr(text, true).unwrap();
            assert_eq!(fmt_addr(true, ip), want, "{text}");
        }
    }

    #[test]
    fn parses_as_netaddr() {
        let n = parse_network("10.1.2.3/255.255.0.0").unwrap();
        assert_eq!((n.prefix, n.cidr_text()), (16, "10.1.2.3/16".to_string()));
        assert_eq!(parse_network("10.1.2.3/0.0.255.255").unwrap().prefix, 16);
        assert_eq!(parse_network("10.0.0.1/ 8").unwrap().prefix, 8);
        assert_eq!(parse_network("10.0.0.1/+8").unwrap().prefix, 8);
        for bad in [
            " 10.0.0.1",
            "010.0.0.1",
            "10.1",
            "1.2.3.4/33",
            "fe80::1%eth0",
            "1.2.3.4/255.0.255.0",
        ] {
            assert_eq!(parse_network(bad), None, "{bad}");
        }
        assert_eq!(
            reverse_dns(false, parse_addr("10.1.2.3", false).unwrap()),
            "3.2.1.10.in-addr.arpa."
        );
    }
}
