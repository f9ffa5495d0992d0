//! A task's variables as a stack of shared layers, so that building a scope per task does not
//! copy what every task of a host (its facts) or of a play (`groups`, the play's host lists)
//! shares.

use std::sync::Arc;

use serde_json::Value;

use crate::vars::Vars;

/// Variables in layers, lowest precedence first. Reading a name gives the highest layer's
/// value; enumerating gives each name once, at the place its lowest layer defines it. Both are
/// what [`crate::vars::overlay`] of the layers in order into one map gives (an ordered map keeps
/// a replaced key where it was first inserted), without copying the layers.
///
/// Cloning is cheap: the layers are shared (`Arc`), at most a handful per scope.
#[derive(Debug, Clone, Default)]
pub struct VarLayers {
    layers: Vec<Arc<Vars>>,
}

impl From<Arc<Vars>> for VarLayers {
    fn from(vars: Arc<Vars>) -> Self {
        VarLayers { layers: vec![vars] }
    }
}

impl From<Vars> for VarLayers {
    fn from(vars: Vars) -> Self {
        Arc::new(vars).into()
    }
}

impl VarLayers {
    /// Layers from the lowest precedence to the highest; empty layers are left out.
    pub fn new(layers: impl IntoIterator<Item = Arc<Vars>>) -> Self {
        VarLayers {
            layers: layers.into_iter().filter(|l| !l.is_empty()).collect(),
        }
    }

    /// The same variables with `top` above them (its names win).
    #[must_use]
    pub fn with_top(&self, top: Vars) -> Self {
        let mut layers = self.layers.clone();
        if !top.is_empty() {
            layers.push(Arc::new(top));
        }
        VarLayers { layers }
    }

    /// The value of `name`: the highest layer's that defines it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.layers.iter().rev().find_map(|l| l.get(name))
    }

    /// Whether some layer defines `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.layers.iter().any(|l| l.contains_key(name))
    }

    /// Every name once, in the order an overlay of the layers would list them.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.layers.iter().enumerate().flat_map(move |(i, layer)| {
            layer.keys().filter(move |k| {
                !self.layers[..i]
                    .iter()
                    .any(|lower| lower.contains_key(k.as_str()))
            })
        })
    }

    /// Every name once with its value, in [`VarLayers::keys`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.keys().filter_map(|k| self.get(k).map(|v| (k, v)))
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        match self.layers.as_slice() {
            [] => 0,
            [one] => one.len(),
            _ => self.keys().count(),
        }
    }

    /// Whether there are no variables at all.
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(|l| l.is_empty())
    }

    /// The variables merged into one map (a copy; for code that must own or change them).
    pub fn flatten(&self) -> Vars {
        match self.layers.as_slice() {
            [one] => (**one).clone(),
            _ => {
                let mut out = Vars::with_capacity(self.layers.iter().map(|l| l.len()).sum());
                for layer in &self.layers {
                    crate::vars::overlay(&mut out, layer);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Arc<Vars> {
        match v {
            Value::Object(m) => Arc::new(m),
            _ => Arc::new(Vars::new()),
        }
    }

    #[test]
    fn layers_read_and_list_as_their_overlay_does() {
        let low = vars(json!({"a": 1, "b": 1, "c": 1}));
        let mid = vars(json!({"d": 2, "b": 2}));
        let high = vars(json!({"c": 3, "e": 3}));
        let l = VarLayers::new([low.clone(), Arc::new(Vars::new()), mid.clone(), high.clone()]);
        let mut flat = Vars::new();
        for layer in [&low, &mid, &high] {
            crate::vars::overlay(&mut flat, layer);
        }
        assert_eq!(l.flatten(), flat);
        let keys: Vec<&String> = l.keys().collect();
        let flat_keys: Vec<&String> = flat.keys().collect();
        assert_eq!(keys, flat_keys);
        assert_eq!(l.len(), 5);
        let pairs: Vec<(&String, &Value)> = l.iter().collect();
        let flat_pairs: Vec<(&String, &Value)> = flat.iter().collect();
        assert_eq!(pairs, flat_pairs);
        assert_eq!(l.get("b"), Some(&json!(2)));
        assert_eq!(l.get("c"), Some(&json!(3)));
        assert!(l.contains_key("a") && !l.contains_key("z"));
        let top = l.with_top(match json!({"a": 9, "z": 9}) {
            Value::Object(m) => m,
            _ => Vars::new(),
        });
        assert_eq!(top.get("a"), Some(&json!(9)));
        assert_eq!(top.keys().last().map(String::as_str), Some("z"));
        // The original is unchanged.
        assert_eq!(l.get("a"), Some(&json!(1)));
        assert_eq!(VarLayers::default().len(), 0);
        assert!(VarLayers::default().is_empty() && VarLayers::from(Vars::new()).is_empty());
    }
}
