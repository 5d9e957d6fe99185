import OsirisCore
import OsirisYAML

/// A component spec that does not decode: a bug in the embedded registry.
public struct ComponentSpecError: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the spec.
    public var message: String

    /// Creates a spec error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// What a component does with data, which decides how many inputs it takes (DESIGN.md §3).
public enum ComponentRole: String, Sendable, CaseIterable {
    /// Reads from a source; takes no input.
    case extractor
    /// Writes to a target; takes exactly one input.
    case writer
    /// Transforms any number of inputs into one output.
    case processor

    /// The OML step `mode` that goes with this role.
    public var stepMode: String {
        switch self {
        case .extractor: "read"
        case .writer: "write"
        case .processor: "transform"
        }
    }
}

/// Whether a step may set a field that normally comes from its connection.
public enum OverridePolicy: String, Sendable {
    /// The step may set it.
    case allowed
    /// The step may set it, with a warning (OML304).
    case warning
    /// The step may not set it (OML303).
    case forbidden
}

/// One built-in component's spec, in the spec format of the original Osiris (`components/*/spec.yaml`)
/// with this toolchain's extensions `x-family`, `x-role`, `x-aliases`, `x-runnable` and `x-alternative`. A class: specs are
/// immutable and shared by every step that uses the component.
public final class ComponentSpec: Sendable {
    /// The component's name, such as `postgres.extractor`.
    public let name: String
    /// The spec's version.
    public let version: String
    /// A short human title.
    public let title: String
    /// One or two sentences on what the component does.
    public let summary: String
    /// The spec's modes in the original vocabulary: extract, write, transform, discover.
    public let modes: [String]
    /// What the component can do, such as `streaming` or `transactions`.
    public let capabilities: [String: Bool]
    /// The schema of the step's `config`.
    public let configSchema: JSONSchema
    /// Top-level config keys whose values are secrets (from the spec's JSON pointers).
    public let secretKeys: Set<String>
    /// Connection fields a step may or may not override, in declaration order.
    public let connectionFields: [(name: String, policy: OverridePolicy)]
    /// Legacy config keys and the canonical keys they stand for (`upsert_keys` -> `primary_key`).
    public let aliases: [String: String]
    /// The connection family the component uses (`postgres`, `mysql`, `supabase`, `sqlite`,
    /// `filesystem`), or nil for components that need no connection.
    public let family: String?
    /// Extractor, writer or processor.
    public let role: ComponentRole
    /// Whether this build can run the component (`x-runnable`, true when absent): `duckdb.processor`
    /// is accepted so that old OML lints and compiles, but needs an engine this build lacks.
    public let runnable: Bool
    /// The component to use instead, when there is one (`x-alternative`).
    public let alternative: String?
    /// Example configs.
    public let examples: [JSONValue]
    /// Guidance for language models (`llmHints`).
    public let llmHints: JSONValue
    /// The whole spec as JSON, which `registry_fp` hashes.
    public let json: JSONValue

    /// The OML step modes (read, write, transform) the component supports.
    public var stepModes: [String] {
        modes.compactMap { mode in
            switch mode {
            case "extract", "read": "read"
            case "write": "write"
            case "transform": "transform"
            default: nil
            }
        }
    }

    /// The override policy of a connection field, or nil when `key` is not a connection field.
    public func overridePolicy(of key: String) -> OverridePolicy? {
        connectionFields.first { $0.name == key }?.policy
    }

    /// Decodes a spec from its YAML text.
    package init(yaml: String) throws(ComponentSpecError) {
        let document: YAMLDocument
        do {
            document = try YAMLParser.parse(yaml)
        } catch {
            throw ComponentSpecError("spec is not valid YAML: \(error.description)")
        }
        guard let root = document.root, root.mapping != nil else { throw ComponentSpecError("spec is not a mapping") }
        let json = root.jsonValue
        guard let name = json["name"]?.stringValue else { throw ComponentSpecError("spec has no name") }
        func fail(_ message: String) -> ComponentSpecError { ComponentSpecError("\(name): \(message)") }

        self.name = name
        self.json = json
        version = json["version"]?.stringValue ?? json["version"].map { JSONWriter.canonicalString($0) } ?? "0"
        title = json["title"]?.stringValue ?? name
        summary = json["description"]?.stringValue ?? ""
        modes = json["modes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        capabilities = (json["capabilities"]?.objectValue ?? [:]).compactMapValues(\.boolValue)
        guard let schemaNode = root["configSchema"] else { throw fail("spec has no configSchema") }
        do {
            configSchema = try JSONSchema(node: schemaNode)
        } catch {
            throw fail(error.message)
        }
        secretKeys = Set((json["secrets"]?.arrayValue ?? []).compactMap { pointer in
            pointer.stringValue.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        })
        var fields: [(String, OverridePolicy)] = []
        for entry in root["x-connection-fields"]?.sequence ?? [] {
            let entryJSON = entry.jsonValue
            guard let field = entryJSON["name"]?.stringValue,
                  let policy = entryJSON["override"]?.stringValue.flatMap(OverridePolicy.init(rawValue:))
            else { throw fail("x-connection-fields entries need a name and an override of allowed, warning or forbidden") }
            fields.append((field, policy))
        }
        connectionFields = fields
        aliases = (json["x-aliases"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let familyName = json["x-family"]?.stringValue ?? "none"
        family = familyName == "none" ? nil : familyName
        guard let role = json["x-role"]?.stringValue.flatMap(ComponentRole.init(rawValue:)) else {
            throw fail("x-role must be extractor, writer or processor")
        }
        self.role = role
        guard let runnable = (json["x-runnable"] ?? .bool(true)).boolValue else { throw fail("x-runnable must be true or false") }
        self.runnable = runnable
        alternative = json["x-alternative"]?.stringValue
        examples = json["examples"]?.arrayValue ?? []
        llmHints = json["llmHints"] ?? .null
    }
}

extension ComponentSpec {
    /// `config` with every missing (or null) key that has a `configSchema` default filled in. Connection
    /// fields (a default `host` would override the connection's), secrets, legacy alias keys and
    /// `connection` are left out. The compiler and the runner both fill defaults with this.
    package func fillingDefaults(_ config: [String: JSONValue]) -> [String: JSONValue] {
        var config = config
        let connectionFields = Set(connectionFields.map(\.name))
        for (name, property) in configSchema.properties {
            guard config[name] == nil || config[name] == .null, let value = property.defaultValue, value != .null,
                  !connectionFields.contains(name), !secretKeys.contains(name), aliases[name] == nil, name != "connection"
            else { continue }
            config[name] = value
        }
        return config
    }
}
