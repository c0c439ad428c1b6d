//! The service dependency graph: edges from `depends_on`, `links`, `volumes_from` and
//! `service:` namespace references; start order as waves of services that can start
//! in parallel, stop order reversed, and cycles reported with their path.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use crate::error::ConfigError;
use crate::yaml::Node;

/// Services and what each depends on. An edge `a → b` means `a` needs `b` first.
#[derive(Clone, Debug, Default)]
pub struct DependencyGraph {
    names: Vec<String>,
    graph: DiGraphMap<usize, ()>,
}

impl DependencyGraph {
    /// Builds the graph from service names and `(dependent, dependency)` pairs; pairs
    /// naming unknown services (disabled, external) are ignored.
    pub fn new(
        names: impl IntoIterator<Item = String>,
        edges: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        names.dedup();
        let index: BTreeMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut graph = DiGraphMap::new();
        for i in 0..names.len() {
            graph.add_node(i);
        }
        for (from, to) in edges {
            if let (Some(&a), Some(&b)) = (index.get(from.as_str()), index.get(to.as_str())) {
                graph.add_edge(a, b, ());
            }
        }
        DependencyGraph { names, graph }
    }

    /// The graph of a canonical project tree.
    pub fn from_tree(tree: &Node) -> Result<Self, ConfigError> {
        let Some(services) = tree.get("services").and_then(Node::as_map) else {
            return Ok(DependencyGraph::default());
        };
        let mut edges = Vec::new();
        for (key, service) in services {
            for dep in service_dependencies(service) {
                edges.push((key.name.clone(), dep));
            }
        }
        Ok(DependencyGraph::new(
            services.keys().map(|k| k.name.clone()),
            edges,
        ))
    }

    pub fn services(&self) -> &[String] {
        &self.names
    }

    /// Direct dependencies of `name`, sorted.
    pub fn dependencies(&self, name: &str) -> Vec<String> {
        let Some(i) = self.names.iter().position(|n| n == name) else {
            return Vec::new();
        };
        let mut deps: Vec<String> = self
            .graph
            .neighbors(i)
            .map(|j| self.names[j].clone())
            .collect();
        deps.sort();
        deps
    }

    /// Waves of services: every service comes after all it depends on, and the services
    /// of one wave do not depend on each other.
    pub fn start_order(&self) -> Result<Vec<Vec<String>>, ConfigError> {
        if let Some(cycle) = self.find_cycle() {
            return Err(ConfigError::new(format!(
                "dependency cycle detected: {}",
                cycle.join(" -> ")
            )));
        }
        let mut remaining: BTreeMap<usize, usize> = self
            .graph
            .nodes()
            .map(|n| (n, self.graph.neighbors(n).count()))
            .collect();
        let mut waves = Vec::new();
        while !remaining.is_empty() {
            let ready: Vec<usize> = remaining
                .iter()
                .filter(|(_, deps)| **deps == 0)
                .map(|(n, _)| *n)
                .collect();
            if ready.is_empty() {
                break; // unreachable: cycles were rejected above
            }
            for n in &ready {
                remaining.remove(n);
                for dependent in self
                    .graph
                    .neighbors_directed(*n, petgraph::Direction::Incoming)
                {
                    if let Some(c) = remaining.get_mut(&dependent) {
                        *c = c.saturating_sub(1);
                    }
                }
            }
            waves.push(ready.into_iter().map(|n| self.names[n].clone()).collect());
        }
        Ok(waves)
    }

    /// The start order reversed: dependents stop before what they depend on.
    pub fn stop_order(&self) -> Result<Vec<Vec<String>>, ConfigError> {
        let mut waves = self.start_order()?;
        waves.reverse();
        Ok(waves)
    }

    /// One cycle as a path that ends where it starts, if the graph has any.
    fn find_cycle(&self) -> Option<Vec<String>> {
        for n in self.graph.nodes() {
            if self.graph.contains_edge(n, n) {
                return Some(vec![self.names[n].clone(), self.names[n].clone()]);
            }
        }
        let mut components = tarjan_scc(&self.graph);
        components.retain(|c| c.len() > 1);
        let component = components
            .into_iter()
            .min_by_key(|c| c.iter().min().copied())?;
        let start = *component.iter().min()?;
        // Walk inside the component until a node repeats.
        let mut path = vec![start];
        let mut current = start;
        loop {
            let mut next: Vec<usize> = self
                .graph
                .neighbors(current)
                .filter(|m| component.contains(m))
                .collect();
            next.sort();
            let step = *next.first()?;
            if let Some(pos) = path.iter().position(|p| *p == step) {
                let mut cycle: Vec<String> =
                    path[pos..].iter().map(|i| self.names[*i].clone()).collect();
                cycle.push(self.names[step].clone());
                return Some(cycle);
            }
            path.push(step);
            current = step;
        }
    }
}

/// Every service a canonical service definition depends on, explicitly or implicitly.
pub fn service_dependencies(service: &Node) -> Vec<String> {
    let mut deps = Vec::new();
    if let Some(d) = service.get("depends_on").and_then(Node::as_map) {
        deps.extend(d.keys().map(|k| k.name.clone()));
    }
    let strings = |key: &str| -> Vec<String> {
        service
            .get(key)
            .and_then(Node::as_seq)
            .map(|s| {
                s.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for link in strings("links") {
        deps.push(link.split(':').next().unwrap_or_default().to_string());
    }
    for from in strings("volumes_from") {
        if !from.starts_with("container:") {
            deps.push(from.split(':').next().unwrap_or_default().to_string());
        }
    }
    for key in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(target) = service
            .get(key)
            .and_then(Node::as_str)
            .and_then(|r| r.strip_prefix("service:"))
        {
            deps.push(target.to_string());
        }
    }
    deps.sort();
    deps.dedup();
    deps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)], names: &[&str]) -> DependencyGraph {
        DependencyGraph::new(
            names.iter().map(|s| s.to_string()),
            edges.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        )
    }

    #[test]
    fn waves_start_dependencies_first() {
        let g = graph(
            &[("web", "db"), ("web", "cache"), ("worker", "db")],
            &["web", "db", "cache", "worker"],
        );
        assert_eq!(
            g.start_order().unwrap(),
            vec![
                vec!["cache".to_string(), "db".into()],
                vec!["web".into(), "worker".into()]
            ]
        );
        assert_eq!(
            g.stop_order().unwrap()[0],
            vec!["web".to_string(), "worker".into()]
        );
    }

    #[test]
    fn cycle_is_named() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a")], &["a", "b", "c"]);
        let e = g.start_order().unwrap_err();
        assert_eq!(e.message, "dependency cycle detected: a -> b -> c -> a");
        let g = graph(&[("a", "a")], &["a"]);
        assert_eq!(
            g.start_order().unwrap_err().message,
            "dependency cycle detected: a -> a"
        );
    }

    #[test]
    fn unknown_services_are_ignored() {
        let g = graph(&[("a", "gone")], &["a"]);
        assert_eq!(g.start_order().unwrap(), vec![vec!["a".to_string()]]);
    }
}
