//! The stack dependency graph: edges from `depends_on` and from `stack_output()` references,
//! a stable topological order, and cycle detection that names the cycle.

use std::collections::{BTreeMap, BTreeSet};

/// Dependencies by stack name; every name that appears is a node.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    pub fn new() -> Self {
        Graph::default()
    }

    pub fn add_node(&mut self, name: &str) {
        self.deps.entry(name.to_owned()).or_default();
    }

    /// `stack` depends on `on`: `on` must be deployed first.
    pub fn add_edge(&mut self, stack: &str, on: &str) {
        self.add_node(on);
        self.deps
            .entry(stack.to_owned())
            .or_default()
            .insert(on.to_owned());
    }

    pub fn dependencies(&self, stack: &str) -> impl Iterator<Item = &str> {
        self.deps
            .get(stack)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Stacks that depend on `stack` directly.
    pub fn dependents(&self, stack: &str) -> Vec<&str> {
        self.deps
            .iter()
            .filter(|(_, d)| d.contains(stack))
            .map(|(s, _)| s.as_str())
            .collect()
    }

    /// A cycle, as the list of stacks along it with the first repeated at the end
    /// (`[a, b, a]`), or None when the graph is acyclic. Deterministic: the first cycle found
    /// from the alphabetically first stack.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> =
            self.deps.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut path: Vec<&str> = Vec::new();

        fn visit<'a>(
            g: &'a Graph,
            node: &'a str,
            marks: &mut BTreeMap<&'a str, Mark>,
            path: &mut Vec<&'a str>,
        ) -> Option<Vec<String>> {
            marks.insert(node, Mark::Active);
            path.push(node);
            for dep in g.dependencies(node) {
                match marks.get(dep).copied().unwrap_or(Mark::New) {
                    Mark::Active => {
                        let start = path.iter().position(|n| *n == dep).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[start..].iter().map(|s| s.to_string()).collect();
                        cycle.push(dep.to_owned());
                        return Some(cycle);
                    }
                    Mark::New => {
                        if let Some(c) = visit(g, dep, marks, path) {
                            return Some(c);
                        }
                    }
                    Mark::Done => {}
                }
            }
            path.pop();
            marks.insert(node, Mark::Done);
            None
        }

        let names: Vec<&str> = self.deps.keys().map(String::as_str).collect();
        for name in names {
            if marks.get(name) == Some(&Mark::New) {
                if let Some(c) = visit(self, name, &mut marks, &mut path) {
                    return Some(c);
                }
            }
        }
        None
    }

    /// All stacks, dependencies before dependents, ties broken by name. Call only on an
    /// acyclic graph; stacks on a cycle are left out.
    pub fn order(&self) -> Vec<String> {
        let mut remaining: BTreeMap<&str, usize> = self
            .deps
            .iter()
            .map(|(k, d)| (k.as_str(), d.len()))
            .collect();
        let mut ready: BTreeSet<&str> = remaining
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::with_capacity(self.deps.len());
        while let Some(next) = ready.pop_first() {
            remaining.remove(next);
            out.push(next.to_owned());
            for (stack, deps) in &self.deps {
                if deps.contains(next) {
                    if let Some(n) = remaining.get_mut(stack.as_str()) {
                        *n -= 1;
                        if *n == 0 {
                            ready.insert(stack.as_str());
                        }
                    }
                }
            }
        }
        out
    }

    /// `roots` and everything they depend on, transitively.
    pub fn closure(&self, roots: &[String]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = roots.iter().map(String::as_str).collect();
        while let Some(n) = todo.pop() {
            if seen.insert(n.to_owned()) {
                todo.extend(self.dependencies(n));
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.add_edge(a, b);
        }
        g
    }

    #[test]
    fn order_puts_dependencies_first_and_is_stable() {
        let g = graph(&[("ecr", "iam"), ("pipe", "ecr"), ("audit", "iam")]);
        assert_eq!(g.order(), vec!["iam", "audit", "ecr", "pipe"]);
        assert!(g.find_cycle().is_none());
        assert_eq!(g.dependents("iam"), vec!["audit", "ecr"]);
    }

    #[test]
    fn cycle_is_named_in_order() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]);
        assert_eq!(g.find_cycle().unwrap(), vec!["a", "b", "c", "a"]);
    }

    #[test]
    fn self_cycle() {
        let g = graph(&[("a", "a")]);
        assert_eq!(g.find_cycle().unwrap(), vec!["a", "a"]);
    }

    #[test]
    fn closure_follows_dependencies() {
        let g = graph(&[("a", "b"), ("b", "c"), ("d", "c")]);
        let c = g.closure(&["a".to_owned()]);
        assert_eq!(c.into_iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
    }
}
