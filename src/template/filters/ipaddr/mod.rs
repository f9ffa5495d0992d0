//! The ansible.utils ipaddr family (`plugin_utils/base/ipaddr_utils.py` and the filters
//! `ipaddr`, `ipv4`, `ipv6`, `ipwrap`, `ipmath`, `ipsubnet`, `network_in_usable`,
//! `network_in_network`), on python-netaddr's model of an address with a prefix
//! ([`net::Net`]). As ansible.utils: a list keeps the items whose answer is truthy (invalid
//! ones dropped), a single value that is not an address gives `False`, a query that is an
//! address or network looks the value up in it, and a number indexes the network.

mod net;
mod query;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error};

use super::{Args, err, str_of, type_name};
use net::{Net, parse_network, py_int};
pub use query::ipaddr;

/// Whether an input names an address (no `/`) or a network (`a/b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vtype {
    /// `10.0.0.1`, or a number.
    Address,
    /// `10.0.0.0/8`.
    Network,
}

/// ansible.utils' reading of one value: a number is an address (IPv4 when it fits and
/// `version` is not 6), text is netaddr's `IPNetwork`, or `int/int`; `None` when it is none
/// of these (the filter then gives `False`).
pub fn parse_value(value: &Value, version: Option<u8>) -> Option<(Net, Vtype, String)> {
    let text = str_of(value);
    let is_int = matches!(value.kind(), ValueKind::Number) && value.is_integer();
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        let n: u128 = text.parse().ok()?;
        let net = if version == Some(6) {
            Net::new(true, n, 128)
        } else {
            Net::new(false, n, 32).or_else(|| Net::new(true, n, 128))
        }?;
        return Some((net, Vtype::Address, net.cidr_text()));
    }
    if is_int || value.kind() != ValueKind::String {
        return None;
    }
    if let Some(net) = parse_network(&text) {
        let vtype = if text.split('/').count() == 2 {
            Vtype::Network
        } else {
            Vtype::Address
        };
        return Some((net, vtype, text));
    }
    let (a, p) = text.split_once('/').filter(|(_, p)| !p.contains('/'))?;
    let (a, p) = (py_int(a)?, py_int(p)?);
    let (a, p) = (u128::try_from(a).ok()?, u32::try_from(p).ok()?);
    let net = Net::new(false, a, p).or_else(|| Net::new(true, a, p))?;
    Some((net, Vtype::Network, net.cidr_text()))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    for prefix in ["", "ansible.utils."] {
        let name = |n: &str| format!("{prefix}{n}");
        env.add_filter(name("ipaddr"), |v: Value, rest: Rest<ValueOrKwargs>| {
            family(v, rest, None, "ipaddr")
        });
        env.add_filter(name("ipv4"), |v: Value, rest: Rest<ValueOrKwargs>| {
            family(v, rest, Some(4), "ipv4")
        });
        env.add_filter(name("ipv6"), |v: Value, rest: Rest<ValueOrKwargs>| {
            family(v, rest, Some(6), "ipv6")
        });
        env.add_filter(name("ipwrap"), ipwrap);
        env.add_filter(name("ipmath"), ipmath);
        env.add_filter(name("ipsubnet"), query::ipsubnet);
        env.add_filter(name("network_in_usable"), |v: Value, t: Value| {
            query::network_in(&v, &t, true)
        });
        env.add_filter(name("network_in_network"), |v: Value, t: Value| {
            query::network_in(&v, &t, false)
        });
    }
}

/// ansible.utils' type check: text, a list or an integer.
fn check_type(v: &Value, filter: &str, bool_ok: bool) -> Result<(), Error> {
    let ok = match v.kind() {
        ValueKind::String | ValueKind::Seq => true,
        ValueKind::Number => v.is_integer(),
        ValueKind::Bool => bool_ok,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(err(format!(
            "Unrecognized type <class '{}'> for {filter} filter <value>",
            type_name(v)
        )))
    }
}

/// The query argument as ansible.utils' argument spec makes it (text; `''` when absent).
fn query_arg(args: &Args, i: usize) -> String {
    args.get(i, "query")
        .filter(|q| !q.is_none() && !q.is_undefined())
        .map(|q| str_of(&q))
        .unwrap_or_default()
}

/// `ipaddr(query='', version=False)`, `ipv4(query='')`, `ipv6(query='')`.
fn family(v: Value, rest: Rest<ValueOrKwargs>, version: Option<u8>, alias: &str) -> Result<Value, Error> {
    check_type(&v, alias, true)?;
    let args = Args::new(rest);
    let query = query_arg(&args, 0);
    let version = match version {
        Some(n) => Some(n),
        None => match args.get(1, "version").filter(|x| x.is_true()).map(|x| x.as_i64()) {
            None => None,
            Some(Some(n @ (4 | 6))) => Some(n as u8),
            Some(_) => Some(0),
        },
    };
    ipaddr(&v, &query, version, alias)
}

/// `ipwrap(query='')`: IPv6 addresses in brackets; anything else as it was.
fn ipwrap(v: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    check_type(&v, "ipwrap", true)?;
    if v.kind() == ValueKind::Number {
        return Err(err("Unrecognized type <class 'int'> for ipwrap filter <value>"));
    }
    let query = query_arg(&Args::new(rest), 0);
    let wrap_one = |item: &Value| -> Value {
        match ipaddr(item, &query, None, "ipwrap") {
            Ok(r) if r.is_true() => {
                let target = if v.kind() == ValueKind::Seq {
                    item.clone()
                } else {
                    r
                };
                ipaddr(&target, "wrap", None, "ipaddr").unwrap_or_else(|_| item.clone())
            }
            _ => item.clone(),
        }
    };
    if v.kind() == ValueKind::Seq {
        Ok(Value::from(
            v.try_iter()?.map(|i| wrap_one(&i)).collect::<Vec<_>>(),
        ))
    } else {
        Ok(wrap_one(&v))
    }
}

/// `ipmath(amount)`: the address plus `amount` (of a network, its address).
fn ipmath(v: Value, amount: Value) -> Result<String, Error> {
    let text = str_of(&v);
    let invalid = || err(format!("You must pass a valid IP address; {text} is invalid"));
    let net = parse_network(&text).ok_or_else(invalid)?;
    let n = match amount.kind() {
        ValueKind::Bool => i128::from(amount.is_true()),
        ValueKind::Number if amount.is_integer() => i128::try_from(amount.clone()).map_err(|_| invalid())?,
        _ => {
            return Err(err(format!(
                "You must pass an integer for arithmetic; {} is not a valid integer",
                str_of(&amount)
            )));
        }
    };
    let ip = i128::try_from(net.ip).ok().and_then(|ip| ip.checked_add(n));
    match ip
        .and_then(|ip| u128::try_from(ip).ok())
        .filter(|ip| *ip <= net.max())
    {
        Some(ip) => Ok(net.fmt_addr(ip)),
        None => Err(err("result outside valid IP address boundary!")),
    }
}
