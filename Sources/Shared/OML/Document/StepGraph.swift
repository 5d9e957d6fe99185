/// The data flow between steps: each step's inputs, explicit (`needs`) or implicit (the linear form
/// of OML v0.1.0), the dependency cycles, and the levels steps can run in.
public struct StepGraph: Sendable {
    /// Where a step's inputs come from.
    public enum InputSource: Sendable, Equatable {
        /// The step lists them in `needs`.
        case explicit
        /// A writer or processor without `needs` reads the nearest earlier step that produces data.
        case implicit
        /// The step takes no input.
        case none
    }

    /// For each step (by index), the indexes of the steps it reads, in `needs` order.
    public let inputs: [[Int]]
    /// For each step, where its inputs come from.
    public let sources: [InputSource]
    /// `needs` entries that lie on a cycle, as (step index, entry index) pairs; a self reference included.
    public let cycleEntries: Set<[Int]>

    /// Builds the graph. `role(i)` gives each step's role from its component (nil when unknown, then
    /// taken to produce data and, without `needs`, to read nothing).
    public init(document: OMLDocument, role: (Int) -> ComponentRole?) {
        let steps = document.steps
        let ids = document.stepsByID
        var inputs: [[Int]] = Array(repeating: [], count: steps.count)
        var sources: [InputSource] = Array(repeating: .none, count: steps.count)
        for step in steps {
            if let needs = step.needs {
                var seen = Set<Int>()
                for dependency in needs {
                    if let target = ids[dependency.name], seen.insert(target.index).inserted {
                        inputs[step.index].append(target.index)
                    }
                }
                sources[step.index] = .explicit
            } else if let stepRole = role(step.index), stepRole != .extractor {
                let producer = (0..<step.index).reversed().first { role($0) != .writer }
                if let producer {
                    inputs[step.index] = [producer]
                    sources[step.index] = .implicit
                }
            }
        }
        self.inputs = inputs
        self.sources = sources

        // Tarjan's strongly connected components over explicit edges; an edge inside one component
        // (or a self edge) lies on a cycle.
        let component = Self.stronglyConnectedComponents(inputs)
        var cycleEntries = Set<[Int]>()
        for step in steps {
            guard let needs = step.needs else { continue }
            for (entryIndex, dependency) in needs.enumerated() {
                guard let target = ids[dependency.name]?.index else { continue }
                if target == step.index || component[target] == component[step.index] {
                    cycleEntries.insert([step.index, entryIndex])
                }
            }
        }
        self.cycleEntries = cycleEntries
    }

    /// Whether the graph has a cycle.
    public var hasCycle: Bool { !cycleEntries.isEmpty }

    /// The levels of the DAG: level 0 holds steps with no inputs, level n steps whose inputs are all
    /// in earlier levels. Steps keep document order within a level. Empty when there is a cycle.
    public var levels: [[Int]] {
        guard !hasCycle else { return [] }
        // Kahn's algorithm, level by level, without recursion.
        var remaining = inputs.map(\.count)
        var consumers: [[Int]] = Array(repeating: [], count: inputs.count)
        for (index, sources) in inputs.enumerated() {
            for source in sources { consumers[source].append(index) }
        }
        var result: [[Int]] = []
        var current = inputs.indices.filter { remaining[$0] == 0 }
        while !current.isEmpty {
            result.append(current)
            var next: [Int] = []
            for index in current {
                for consumer in consumers[index] {
                    remaining[consumer] -= 1
                    if remaining[consumer] == 0 { next.append(consumer) }
                }
            }
            current = next.sorted()
        }
        return result
    }

    /// Iterative Tarjan, so a long chain of steps cannot overflow the stack.
    private static func stronglyConnectedComponents(_ edges: [[Int]]) -> [Int] {
        let count = edges.count
        var index = Array(repeating: -1, count: count)
        var lowLink = Array(repeating: 0, count: count)
        var onStack = Array(repeating: false, count: count)
        var component = Array(repeating: -1, count: count)
        var stack: [Int] = []
        var nextIndex = 0
        var nextComponent = 0
        for start in 0..<count where index[start] < 0 {
            var work: [(node: Int, edge: Int)] = [(start, 0)]
            index[start] = nextIndex
            lowLink[start] = nextIndex
            nextIndex += 1
            stack.append(start)
            onStack[start] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let next = edges[node][edge]
                    if index[next] < 0 {
                        index[next] = nextIndex
                        lowLink[next] = nextIndex
                        nextIndex += 1
                        stack.append(next)
                        onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        lowLink[node] = min(lowLink[node], index[next])
                    }
                } else {
                    work.removeLast()
                    if let parent = work.last?.node { lowLink[parent] = min(lowLink[parent], lowLink[node]) }
                    if lowLink[node] == index[node] {
                        while let member = stack.popLast() {
                            onStack[member] = false
                            component[member] = nextComponent
                            if member == node { break }
                        }
                        nextComponent += 1
                    }
                }
            }
        }
        return component
    }
}
