//! A map kept as a list of `[key, value]` pairs, for maps whose keys are not strings
//! (JSON objects only take string keys): `#[serde(with = "crate::serde_pairs")]`.
//! The durable store (`--data`) keeps the services' state this way.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

pub fn serialize<'a, M, K, V, S>(map: &'a M, serializer: S) -> Result<S::Ok, S::Error>
where
    &'a M: IntoIterator<Item = (&'a K, &'a V)>,
    K: Serialize + 'a,
    V: Serialize + 'a,
    S: Serializer,
{
    serializer.collect_seq(map)
}

pub fn deserialize<'de, M, D>(deserializer: D) -> Result<M, D::Error>
where
    M: PairMap,
    M::K: Deserialize<'de>,
    M::V: Deserialize<'de>,
    D: Deserializer<'de>,
{
    let pairs: Vec<(M::K, M::V)> = Vec::deserialize(deserializer)?;
    Ok(M::from_pairs(pairs))
}

/// A map built from its pairs (the persistent maps' `FromIterator` converts its items,
/// which leaves their types open; this names them).
pub trait PairMap {
    type K;
    type V;
    fn from_pairs(pairs: Vec<(Self::K, Self::V)>) -> Self;
}

impl<K: Ord + Clone, V: Clone> PairMap for imbl::OrdMap<K, V> {
    type K = K;
    type V = V;
    fn from_pairs(pairs: Vec<(K, V)>) -> Self {
        pairs.into_iter().collect()
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> PairMap for imbl::HashMap<K, V> {
    type K = K;
    type V = V;
    fn from_pairs(pairs: Vec<(K, V)>) -> Self {
        pairs.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use imbl::OrdMap;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        map: OrdMap<(String, u64), String>,
    }

    #[test]
    fn a_map_with_tuple_keys_goes_through_json_and_back() {
        let mut map = OrdMap::new();
        map.insert(("a".to_string(), 2), "x".to_string());
        map.insert(("b".to_string(), 1), "y".to_string());
        let holder = Holder { map };
        let text = serde_json::to_string(&holder).unwrap();
        assert_eq!(text, r#"{"map":[[["a",2],"x"],[["b",1],"y"]]}"#);
        assert_eq!(serde_json::from_str::<Holder>(&text).unwrap(), holder);
    }
}
