import OsirisCore

/// The components this toolchain knows, read from the specs embedded in the library.
public struct ComponentRegistry: Sendable {
    /// Every spec, sorted by name.
    public let specs: [ComponentSpec]
    private let byName: [String: ComponentSpec]

    /// A registry of the given specs.
    package init(specs: [ComponentSpec]) {
        self.specs = specs.sorted { $0.name < $1.name }
        var index: [String: ComponentSpec] = [:]
        for spec in specs { index[spec.name] = spec }
        byName = index
    }

    /// The built-in registry. The embedded specs are part of the program, so one that does not decode
    /// is a bug caught by the registry's tests, not a user error.
    public static let builtin: ComponentRegistry = {
        do {
            return ComponentRegistry(specs: try EmbeddedSpecs.all.map { text throws(ComponentSpecError) in try ComponentSpec(yaml: text) })
        } catch {
            preconditionFailure("embedded component spec does not decode: \(error)")
        }
    }()

    /// The spec of the named component, or nil.
    public func spec(named name: String) -> ComponentSpec? { byName[name] }

    /// The component names, sorted.
    public var names: [String] { specs.map(\.name) }
}
