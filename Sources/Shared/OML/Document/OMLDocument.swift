import OsirisCore
import OsirisYAML

/// One entry of a step's `needs` list.
public struct StepDependency: Sendable {
    /// The step id named.
    public let name: String
    /// The list entry, for positions.
    package let node: YAMLNode
}

/// One step of an OML pipeline, with the nodes of its fields kept for positions. A class, so the
/// many rules that walk the steps share one copy.
public final class OMLStep: Sendable {
    /// The step's position in the `steps` list, from 0.
    public let index: Int
    /// The step's node: a mapping in a well-formed document.
    package let node: YAMLNode
    /// The `id` value, when present.
    package let idNode: YAMLNode?
    /// The `component` value, when present.
    package let componentNode: YAMLNode?
    /// The `mode` value, when present.
    package let modeNode: YAMLNode?
    /// The `needs` entry, when present.
    package let needsPair: YAMLPair?
    /// The `config` entry, when present.
    package let configPair: YAMLPair?
    /// The `retry` entry, when present.
    package let retryPair: YAMLPair?

    /// Creates the step view of a node.
    init(index: Int, node: YAMLNode) {
        self.index = index
        self.node = node
        idNode = node["id"]
        componentNode = node["component"]
        modeNode = node["mode"]
        needsPair = node.pair("needs")
        configPair = node.pair("config")
        retryPair = node.pair("retry")
    }

    /// The step id; any scalar other than null counts, so `id: 2024` is the id "2024".
    public var id: String? { Self.text(idNode) }
    /// The component name.
    public var component: String? { Self.text(componentNode) }
    /// The declared mode.
    public var mode: String? { Self.text(modeNode) }
    /// The step's config mapping, when it is one.
    package var config: YAMLNode? { configPair?.value }

    /// The `needs` entries, or nil when the step has no `needs` key. A single string is taken as a
    /// one-entry list; entries that are not scalars are left out (the linter reports them).
    public var needs: [StepDependency]? {
        guard let value = needsPair?.value else { return nil }
        if let items = value.sequence {
            return items.compactMap { item in Self.text(item).map { StepDependency(name: $0, node: item) } }
        }
        if let single = Self.text(value) { return [StepDependency(name: single, node: value)] }
        return []
    }

    /// The node to point at for step-level findings: the `id` value, else the step's first key.
    package var anchorNode: YAMLNode { idNode ?? node.mapping?.first?.key ?? node }

    /// How the step is named in messages: its id, else its position.
    public var displayName: String { id.map { "'\($0)'" } ?? "#\(index + 1)" }

    private static func text(_ node: YAMLNode?) -> String? {
        guard let scalar = node?.scalar else { return nil }
        if scalar.value == .null { return nil }
        return scalar.text
    }
}

/// A parsed OML document: the YAML tree plus typed access to its parts. It accepts any mapping, so
/// the linter can report everything that is wrong; `OMLDocument(root:)` never fails on content.
public struct OMLDocument: Sendable {
    /// The keys OML v0.1.0 defines at the top level.
    public static let topLevelKeys = ["oml_version", "name", "description", "metadata", "params", "profiles", "steps"]
    /// Top-level keys of the pre-OML format, now errors.
    public static let legacyKeys = ["version", "connectors", "tasks", "outputs"]
    /// The keys a step may have.
    public static let stepKeys = ["id", "component", "mode", "needs", "config", "retry", "description"]
    /// The OML version this toolchain implements.
    public static let currentVersion = "0.1.0"

    /// The document's root mapping.
    package let root: YAMLNode
    /// The steps, one per entry of the `steps` list (empty when `steps` is missing or not a list).
    public let steps: [OMLStep]
    /// The declared params, in order.
    public let params: [ParamDeclaration]
    /// The declared profiles, in order.
    public let profiles: [ProfileDeclaration]
    /// The first step with each id; later duplicates are left out (the linter reports them).
    public let stepsByID: [String: OMLStep]

    /// Views a root mapping as an OML document.
    package init(root: YAMLNode) {
        self.root = root
        steps = (root["steps"]?.sequence ?? []).enumerated().map { OMLStep(index: $0.offset, node: $0.element) }
        params = (root["params"]?.mapping ?? []).map(ParamDeclaration.init(pair:))
        profiles = (root["profiles"]?.mapping ?? []).map(ProfileDeclaration.init(pair:))
        var byID: [String: OMLStep] = [:]
        for step in steps {
            if let id = step.id, byID[id] == nil { byID[id] = step }
        }
        stepsByID = byID
    }

    /// The top-level entry for `key`, when present.
    package func entry(_ key: String) -> YAMLPair? { root.pair(key) }

    /// The pipeline's name, when it is a string.
    public var name: String? { root["name"]?.string }

    /// The declared param named `name`.
    public func param(named name: String) -> ParamDeclaration? { params.first { $0.name == name } }
}
