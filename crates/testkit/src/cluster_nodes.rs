//! Reading `CLUSTER NODES`: who is master, of which slots, and whose
//! replica each node is.

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
pub(crate) struct ClusterNode {
    pub(crate) id: String,
    pub(crate) myself: bool,
    flags: Vec<String>,
    pub(crate) master_id: Option<String>,
    slots: Vec<(u16, u16)>,
}

impl ClusterNode {
    pub(crate) fn is_master(&self) -> bool {
        self.flags.iter().any(|flag| flag == "master")
    }

    pub(crate) fn owns(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(first, last)| (first..=last).contains(&slot))
    }
}

/// `<id> <ip:port@cport> <flags> <master|-> <ping> <pong> <epoch> <link> <slots>...`;
/// importing/migrating markers (`[...]`) are skipped.
pub(crate) fn parse_cluster_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let flags: Vec<String> = fields[2].split(',').map(str::to_owned).collect();
            let slots = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .filter_map(|range| match range.split_once('-') {
                    Some((first, last)) => Some((first.parse().ok()?, last.parse().ok()?)),
                    None => range.parse().ok().map(|slot| (slot, slot)),
                })
                .collect();
            Some(ClusterNode {
                id: fields[0].to_owned(),
                myself: flags.iter().any(|flag| flag == "myself"),
                flags,
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_cluster_nodes;

    #[test]
    fn cluster_nodes_lines_parse() {
        let text = "07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected\n\
                    e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 5462 [5461->-67ed]\n\
                    67ed 127.0.0.1:30002@40002 master,fail - 0 0 2 disconnected\n";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0].master_id.as_deref(), Some("e7d1"));
        assert!(!nodes[0].is_master() && !nodes[0].myself);
        assert!(nodes[1].myself && nodes[1].is_master() && nodes[1].master_id.is_none());
        assert!(nodes[1].owns(0) && nodes[1].owns(5460) && nodes[1].owns(5462));
        assert!(!nodes[1].owns(5461) && !nodes[1].owns(5463));
        assert!(nodes[2].is_master() && nodes[2].slots.is_empty());
    }
}
