//! The queries of ansible.utils' `ipaddr` (`query_func_map`), `ipsubnet` and
//! `network_in_usable`/`network_in_network`, each answering as its Python function does
//! (`None` where it falls through, `False` where it says so).

use minijinja::Error;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};

use super::net::{Net, fmt_addr, in_net, is_global, parse_network, reverse_dns};
use super::{Args, Vtype, err, parse_value, query_arg, str_of};

/// The queries `ipaddr` knows (anything else is a lookup network or an index).
const QUERIES: &[&str] = &[
    "",
    "6to4",
    "address",
    "address/prefix",
    "bool",
    "broadcast",
    "cidr",
    "cidr_lookup",
    "first_usable",
    "gateway",
    "gw",
    "host",
    "host/prefix",
    "hostmask",
    "hostnet",
    "int",
    "ip",
    "ip/prefix",
    "ip_netmask",
    "ipv4",
    "ipv6",
    "last_usable",
    "link-local",
    "lo",
    "loopback",
    "multicast",
    "net",
    "next_usable",
    "netmask",
    "network",
    "network_id",
    "network/prefix",
    "network_netmask",
    "network_wildcard",
    "peer",
    "prefix",
    "previous_usable",
    "private",
    "public",
    "range_usable",
    "revdns",
    "router",
    "size",
    "size_usable",
    "subnet",
    "type",
    "unicast",
    "v4",
    "v6",
    "version",
    "wildcard",
    "wrap",
];

fn none() -> Value {
    Value::from(())
}

fn text(s: String) -> Value {
    Value::from(s)
}

/// An integer answer (sizes and addresses may exceed 64 bits).
fn int(n: u128) -> Value {
    match i64::try_from(n) {
        Ok(i) => Value::from(i),
        Err(_) => Value::from(n),
    }
}

/// The size, or an error for `::/0` (2**128 is beyond talon's integers).
fn size(v: &Net) -> Result<u128, Error> {
    v.size()
        .ok_or_else(|| err("ipaddr: the size of ::/0 (2**128) is beyond talon's integers"))
}

/// `(first_usable, last_usable)` of a network of more than one address.
fn first_last(v: &Net, size: u128) -> (u128, u128) {
    if size == 2 {
        (v.network(), v.last())
    } else {
        (v.network() + 1, v.last() - 1)
    }
}

fn is_multicast_ip(v6: bool, ip: u128) -> bool {
    in_net(v6, ip, if v6 { "ff00::/8" } else { "224.0.0.0/4" })
}

/// `IPNetwork.is_multicast()`: the whole network inside the multicast range.
fn is_multicast_net(v: &Net) -> bool {
    let m = if v.v6 { "ff00::/8" } else { "224.0.0.0/4" };
    parse_network(m).is_some_and(|m| m.network() <= v.network() && v.last() <= m.last())
}

fn is_loopback(v6: bool, ip: u128) -> bool {
    in_net(v6, ip, if v6 { "::1/128" } else { "127.0.0.0/8" })
}

/// `2**k` is the number `k` (netaddr's `is_netmask`/`is_hostmask` test for a power of two).
fn power_of_two(n: Option<u128>) -> bool {
    n.is_none_or(|n| n & n.wrapping_sub(1) == 0)
}

/// `_public_query`'s conditions on the address.
fn is_public(v: &Net) -> bool {
    let ip = v.ip;
    !is_multicast_ip(v.v6, ip)
        && is_global(v.v6, ip)
        && !is_loopback(v.v6, ip)
        && !power_of_two((ip ^ v.max()).checked_add(1))
        && !power_of_two(ip.checked_add(1).filter(|_| ip < v.max()))
}

/// `v in IPSet([net])`: the whole of `v` inside `net`.
fn within(v: &Net, net: &Net) -> bool {
    v.v6 == net.v6 && net.network() <= v.network() && v.last() <= net.last()
}

/// ansible.utils' `ipaddr(value, query='', version=False, alias='ipaddr')`.
pub fn ipaddr(value: &Value, query: &str, version: Option<u8>, alias: &str) -> Result<Value, Error> {
    if matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
        let mut kept = Vec::new();
        for item in value.try_iter()? {
            let r = ipaddr(&item, query, version, "ipaddr")?;
            if r.is_true() {
                kept.push(r);
            }
        }
        return Ok(Value::from(kept));
    }
    if !value.is_true() || (value.kind() == ValueKind::Bool) {
        return Ok(Value::from(false));
    }
    let Some((v, vtype, original)) = parse_value(value, version) else {
        return Ok(Value::from(false));
    };
    let value = Value::from(original);
    let mut query = query.to_string();
    let mut lookup = None;
    if !query.is_empty()
        && (!QUERIES.contains(&query.as_str()) || query == "cidr_lookup")
        && !query.chars().all(|c| c.is_ascii_digit())
        && ipaddr(&Value::from(query.as_str()), "network", None, "ipaddr")?.is_true()
        && let Some(net) = parse_network(&query)
    {
        lookup = Some(net);
        query = "cidr_lookup".into();
    }
    if version.is_some_and(|n| n != if v.v6 { 6 } else { 4 }) {
        return Ok(Value::from(false));
    }
    let a = |ip: u128| v.fmt_addr(ip);
    let not_network = || Err(err("Not a network address"));
    let address = vtype == Vtype::Address;
    Ok(match query.as_str() {
        "" => match vtype {
            Vtype::Address => text(a(v.ip)),
            Vtype::Network => text(v.cidr_text()),
        },
        "6to4" => six_to_four(&v, vtype, &value)?,
        "address" | "ip" => {
            let n = size(&v)?;
            if n == 1 || v.ip != v.network() || v.broadcast().is_none() || v.v6 {
                text(a(v.ip))
            } else {
                none()
            }
        }
        "address/prefix" | "gateway" | "gw" | "host/prefix" | "hostnet" | "router" => {
            if size(&v)? > 2 && (v.ip == v.network() || Some(v.ip) == v.broadcast()) {
                Value::from(false)
            } else {
                text(format!("{}/{}", a(v.ip), v.prefix))
            }
        }
        "bool" => Value::from(true),
        "broadcast" => match v.broadcast() {
            Some(b) if size(&v)? > 2 => text(a(b)),
            _ => none(),
        },
        "cidr" => text(v.cidr_text()),
        "cidr_lookup" => match lookup {
            Some(net) if within(&v, &net) => value,
            _ => none(),
        },
        "first_usable" => {
            if address {
                return not_network();
            }
            match size(&v)? {
                2 => text(a(v.network())),
                n if n > 1 => text(a(v.network() + 1)),
                _ => none(),
            }
        }
        "host" => {
            let n = size(&v)?;
            if n == 1 {
                text(v.cidr_text())
            } else if v.ip != v.network() || v.broadcast().is_none() {
                text(format!("{}/{}", a(v.ip), v.prefix))
            } else {
                none()
            }
        }
        "hostmask" | "wildcard" => text(a(v.hostmask())),
        "int" => match vtype {
            Vtype::Address => int(v.ip),
            Vtype::Network => text(format!("{}/{}", v.ip, v.prefix)),
        },
        "ip/prefix" | "ip_netmask" => {
            let n = size(&v)?;
            let sep = if query == "ip/prefix" {
                format!("/{}", v.prefix)
            } else {
                format!(" {}", a(v.netmask()))
            };
            if n == 2 || (n > 1 && v.ip != v.network()) {
                text(format!("{}{sep}", a(v.ip)))
            } else {
                none()
            }
        }
        "ipv4" | "v4" => {
            if !v.v6 {
                value
            } else {
                to_ipv4(&v).map_or(Value::from(false), text)
            }
        }
        "ipv6" | "v6" => {
            if v.v6 {
                value
            } else {
                text(format!(
                    "{}/{}",
                    fmt_addr(true, 0xffff_0000_0000 + v.ip),
                    v.prefix + 96
                ))
            }
        }
        "last_usable" | "next_usable" | "previous_usable" | "range_usable" => {
            if address {
                return not_network();
            }
            let n = size(&v)?;
            if n <= 1 {
                return Ok(none());
            }
            let (first, last) = first_last(&v, n);
            match query.as_str() {
                "last_usable" => text(a(last)),
                "range_usable" => text(format!("{}-{}", a(first), a(last))),
                "next_usable" => match v.ip.checked_add(1) {
                    Some(ip) if first <= ip && ip <= last => text(a(ip)),
                    _ => none(),
                },
                _ => match v.ip.checked_sub(1) {
                    Some(ip) if first <= ip && ip <= last => text(a(ip)),
                    _ => none(),
                },
            }
        }
        "link-local" => {
            let net = if v.v6 { "fe80::/10" } else { "169.254.0.0/16" };
            if in_net(v.v6, v.ip, net) { value } else { none() }
        }
        "lo" | "loopback" => {
            if is_loopback(v.v6, v.ip) {
                value
            } else {
                none()
            }
        }
        "multicast" => {
            if is_multicast_net(&v) {
                value
            } else {
                none()
            }
        }
        "unicast" => {
            if is_multicast_net(&v) {
                none()
            } else {
                value
            }
        }
        "net" => {
            if size(&v)? > 1 && v.ip == v.network() {
                text(v.subnet_text())
            } else {
                none()
            }
        }
        "netmask" => text(a(v.netmask())),
        "network" | "network_id" => text(a(v.network())),
        "network/prefix" | "subnet" => text(v.subnet_text()),
        "network_netmask" => text(format!("{} {}", a(v.network()), a(v.netmask()))),
        "network_wildcard" => text(format!("{} {}", a(v.network()), a(v.hostmask()))),
        "peer" => {
            if address {
                return not_network();
            }
            match size(&v)? {
                2 => text(a(v.ip ^ 1)),
                4 if v.ip % 4 == 0 => return Err(err("Network address of /30 has no peer")),
                4 if v.ip % 4 == 3 => return Err(err("Broadcast address of /30 has no peer")),
                4 => text(a(v.ip ^ 3)),
                _ => return Err(err("Not a point-to-point network")),
            }
        }
        "prefix" => Value::from(v.prefix),
        "private" => {
            if is_global(v.v6, v.ip) {
                none()
            } else {
                value
            }
        }
        "public" => {
            if is_public(&v) {
                value
            } else {
                none()
            }
        }
        "revdns" => text(reverse_dns(v.v6, v.ip)),
        "size" => int(size(&v)?),
        "size_usable" => match size(&v)? {
            1 => Value::from(0),
            2 => Value::from(2),
            n => int(n - 2),
        },
        "type" => {
            if size(&v)? == 1 || v.ip != v.network() {
                Value::from("address")
            } else {
                Value::from("network")
            }
        }
        "version" => Value::from(if v.v6 { 6 } else { 4 }),
        "wrap" => {
            if !v.v6 {
                value
            } else if address {
                text(format!("[{}]", a(v.ip)))
            } else {
                text(format!("[{}]/{}", a(v.ip), v.prefix))
            }
        }
        other => index_query(&v, vtype, other, &value, alias)?,
    })
}

/// A numeric query: the address at that index of the network (`v[index]/prefix`).
fn index_query(v: &Net, vtype: Vtype, query: &str, value: &Value, alias: &str) -> Result<Value, Error> {
    let q = query.trim().replace('_', "");
    if q.parse::<f64>().is_err() {
        return Err(err(format!("{alias}: unknown filter type: {query}")));
    }
    let n = size(v)?;
    if n == 1 {
        return Ok(match vtype {
            Vtype::Address => text(v.fmt_addr(v.ip)),
            Vtype::Network => text(v.cidr_text()),
        });
    }
    if n == 0 {
        return Ok(value.clone());
    }
    let Some(index) = super::py_int(query) else {
        return Ok(Value::from(false));
    };
    let addr = if index < 0 {
        u128::try_from(-index)
            .ok()
            .filter(|i| *i <= n)
            .map(|i| v.last() + 1 - i)
    } else {
        u128::try_from(index)
            .ok()
            .filter(|i| *i < n)
            .map(|i| v.network() + i)
    };
    Ok(addr.map_or(Value::from(false), |ip| {
        text(format!("{}/{}", v.fmt_addr(ip), v.prefix))
    }))
}

/// `IPNetwork.ipv4()` of an IPv6 network, as text; `None` where netaddr raises.
fn to_ipv4(v: &Net) -> Option<String> {
    let prefix = v.prefix.checked_sub(96)?;
    let value = if v.ip <= u128::from(u32::MAX) {
        v.ip
    } else if v.ip <= 0xffff_ffff_ffff {
        v.ip.checked_sub(0xffff_0000_0000)?
    } else {
        return None;
    };
    Some(format!("{}/{prefix}", fmt_addr(false, value)))
}

/// `_6to4_query`.
fn six_to_four(v: &Net, vtype: Vtype, value: &Value) -> Result<Value, Error> {
    let six = parse_network("2002::/16");
    if !v.v6 {
        let n = size(v)?;
        if n > 1 && v.ip == v.network() {
            return Ok(Value::from(false));
        }
        let ip = Net { prefix: 32, ..*v };
        if is_public(&ip) || !is_global(false, v.ip) {
            let o = (v.ip as u32).to_be_bytes();
            return Ok(text(format!(
                "2002:{:02x}{:02x}:{:02x}{:02x}::1/48",
                o[0], o[1], o[2], o[3]
            )));
        }
        return Ok(Value::from(false));
    }
    let Some(six) = six else {
        return Ok(Value::from(false));
    };
    let inside = match vtype {
        Vtype::Address => within(v, &six),
        Vtype::Network => v.ip != v.network() && within(&Net { prefix: 128, ..*v }, &six),
    };
    Ok(if inside { value.clone() } else { Value::from(false) })
}

/// ansible.utils' `ipsubnet(query='', index=None)`.
pub(super) fn ipsubnet(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::new(rest);
    let query = query_arg(&args, 0);
    let index = args.get(1, "index").filter(|i| !i.is_none());
    let Some((parsed, _, _)) = parse_value(&value, None) else {
        return Ok(Value::from(false));
    };
    let net = Net {
        ip: parsed.network(),
        ..parsed
    };
    let total = net.width();
    let is_address = size(&net)? == 1;
    if query.is_empty() {
        return Ok(text(net.subnet_text()));
    }
    if query.chars().all(|c| c.is_ascii_digit()) {
        let Some(q) = query.parse::<u32>().ok().filter(|q| *q <= total) else {
            return Ok(Value::from(false));
        };
        let supernet = |i: i64| -> Result<Value, Error> {
            // value.supernet(q): the networks of prefix q .. prefix-1 around the address.
            let count = i64::from(net.prefix.saturating_sub(q));
            let i = if i < 0 { i + count } else { i };
            if i < 0 || i >= count {
                return Err(err("list index out of range"));
            }
            let p = q + i as u32;
            let s = Net { prefix: p, ..net };
            Ok(text(format!("{}/{p}", s.fmt_addr(s.network()))))
        };
        let Some(index) = index else {
            if is_address {
                return supernet(0);
            }
            if q < net.prefix {
                return Err(err(format!("Requested subnet size of {q} is invalid")));
            }
            return 1u128
                .checked_shl(q - net.prefix)
                .map(|n| text(n.to_string()))
                .ok_or_else(|| err("ipsubnet: 2**128 subnets is beyond talon's integers"));
        };
        let index = index
            .as_i64()
            .or_else(|| super::py_int(&str_of(&index)).and_then(|i| i64::try_from(i).ok()))
            .ok_or_else(|| {
                err(format!(
                    "ipsubnet: index must be an integer, got {}",
                    str_of(&index)
                ))
            })?;
        if is_address {
            if index > i64::from(total) + 1 - index || index < i64::from(q) - i64::from(total) {
                return Ok(Value::from(false));
            }
            return supernet(index);
        }
        let subnets: i128 = if q >= net.prefix {
            if q - net.prefix >= 127 {
                i128::MAX
            } else {
                1i128 << (q - net.prefix)
            }
        } else {
            0
        };
        let index = i128::from(index);
        let index = if index < 0 { index + subnets } else { index };
        if index < 0 || (q >= net.prefix && index >= subnets) || (q < net.prefix && index >= 1) {
            return Ok(Value::from(false));
        }
        let step = (index as u128)
            .checked_shl(total - q)
            .filter(|_| q < total || index == 0);
        let ip = step.map_or(net.ip, |s| net.network().wrapping_add(s));
        return Ok(text(format!("{}/{q}", net.fmt_addr(ip))));
    }
    let Some((qnet, _, _)) = parse_value(&Value::from(query.as_str()), None) else {
        return Err(err(format!(
            "You must pass a valid subnet or IP address; {query} is invalid"
        )));
    };
    let shift = |x: u128, by: u32| x.checked_shr(by).unwrap_or(0);
    if qnet.v6 == net.v6 && shift(net.ip, total - qnet.prefix) == shift(qnet.ip, total - qnet.prefix) {
        let bits = net
            .prefix
            .checked_sub(qnet.prefix)
            .ok_or_else(|| err("unsupported operand type(s) for &: 'int' and 'float'"))?;
        let mask = 1u128.checked_shl(bits).map_or(u128::MAX, |m| m - 1);
        let pos = net.ip & mask.checked_shl(total - net.prefix).unwrap_or(0);
        return Ok(text((shift(pos, total - net.prefix) + 1).to_string()));
    }
    Err(err(format!(
        "{} is not in the subnet {}",
        net.subnet_text(),
        qnet.subnet_text()
    )))
}

/// The integer `ipaddr(x, 'int')` gives for the ranges of the `network_in_*` tests, with
/// Python's `False == 0`.
fn as_int(v: &Value) -> Result<u128, Error> {
    let r = ipaddr(v, "int", None, "ipaddr")?;
    Ok(u128::try_from(r).unwrap_or(0))
}

/// `_address_normalizer`: `ipaddr(value, 'subnet')` of an address or network, else `False`.
fn normalize(v: &Value) -> Value {
    match ipaddr(v, "type", None, "ipaddr") {
        Ok(t) if t.as_str().is_some() => ipaddr(v, "subnet", None, "ipaddr").unwrap_or(Value::from(false)),
        _ => Value::from(false),
    }
}

fn either(a: Result<Value, Error>, b: impl FnOnce() -> Result<Value, Error>) -> Result<Value, Error> {
    let a = a?;
    if a.is_true() { Ok(a) } else { b() }
}

/// `network_in_usable(test)` (`usable`) and `network_in_network(test)`: all of `test`
/// inside the usable range (or the whole range) of `value`.
pub(super) fn network_in(value: &Value, test: &Value, usable: bool) -> Result<bool, Error> {
    let (v, w) = (normalize(value), normalize(test));
    let q = |x: &Value, name: &str| ipaddr(x, name, None, "ipaddr");
    let (first_q, last_q) = if usable {
        ("first_usable", "last_usable")
    } else {
        ("network", "broadcast")
    };
    let v_first = as_int(&either(q(&v, first_q), || q(&v, "address"))?)?;
    let v_last = as_int(&either(q(&v, last_q), || q(&v, "address"))?)?;
    let w_first = as_int(&either(q(&w, "network"), || q(&w, "address"))?)?;
    let w_last = as_int(&either(q(&w, "broadcast"), || q(&w, "address"))?)?;
    Ok((v_first..=v_last).contains(&w_first) && (v_first..=v_last).contains(&w_last))
}
