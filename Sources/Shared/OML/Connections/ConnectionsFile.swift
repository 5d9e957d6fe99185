import OsirisCore
import OsirisYAML

/// A connections file that cannot be used (exit status 78).
public typealias ConnectionsFileError = FileFormatError

/// One field of a connection alias, such as `host: 127.0.0.1`, as JSON (YAML node types stay inside OML).
public struct ConnectionField: Sendable, Equatable {
    /// The field's name.
    public let name: String
    /// The value as written, `${VAR}` references included.
    public let value: JSONValue
    /// Where the value is in the file.
    public let range: SourceRange

    /// Creates a field.
    public init(name: String, value: JSONValue, range: SourceRange) {
        self.name = name
        self.value = value
        self.range = range
    }
}

/// One alias of a connections file: its fields, kept unresolved (`${VAR}` stays as written).
public struct ConnectionEntry: Sendable {
    /// The family as written in the file.
    public let family: String
    /// The alias.
    public let alias: String
    /// Whether the entry says `default: true`.
    public let isDefault: Bool
    /// The fields other than `default`, in file order.
    public let fields: [ConnectionField]
    /// Where the alias is defined.
    public let range: SourceRange

    /// The reference that names this entry.
    public var reference: ConnectionReference { ConnectionReference(family: family, alias: alias) }

    /// The value of a field, or nil.
    public func field(_ name: String) -> JSONValue? { fields.first { $0.name == name }?.value }

    /// Creates an entry (the file's parser does; tests and tools may build their own).
    public init(family: String, alias: String, isDefault: Bool, fields: [ConnectionField], range: SourceRange) {
        self.family = family
        self.alias = alias
        self.isDefault = isDefault
        self.fields = fields
        self.range = range
    }
}

/// The outcome of looking up a connection for a step.
public enum ConnectionLookup: Sendable {
    /// The entry that serves the step.
    case found(ConnectionEntry)
    /// The file has no family of that name.
    case unknownFamily(family: String, known: [String])
    /// The family exists but has no such alias.
    case unknownAlias(family: String, alias: String, known: [String])
    /// No reference, and the family has no alias marked `default: true` nor one named `default`.
    case noDefault(family: String, known: [String])
}

/// `osiris_connections.yaml` (DESIGN.md §5): connection aliases by family. Secrets stay as `${VAR}`
/// references until a tool that connects resolves them.
public struct ConnectionsFile: Sendable {
    /// The path the file was read from.
    public let path: String
    /// Every alias, in file order.
    public let entries: [ConnectionEntry]

    /// A connections file made of `entries`, as if read from `path`.
    public init(path: String, entries: [ConnectionEntry]) {
        self.path = path
        self.entries = entries
    }

    /// Where the connections file is: `--connections FILE`, else `$OSIRIS_CONNECTIONS`, else
    /// `./osiris_connections.yaml`, else `$XDG_CONFIG_HOME/osiris/connections.yaml`
    /// (`~/.config` when unset). Returns nil when no file is found; an explicit path is returned as given.
    public static func locate(
        explicit: String?, environment: [String: String], fileExists: (String) -> Bool
    ) -> String? {
        if let explicit { return explicit }
        if let fromEnvironment = environment["OSIRIS_CONNECTIONS"], !fromEnvironment.isEmpty { return fromEnvironment }
        if fileExists("osiris_connections.yaml") { return "osiris_connections.yaml" }
        var configHome = environment["XDG_CONFIG_HOME"] ?? ""
        if configHome.isEmpty, let home = environment["HOME"], !home.isEmpty { configHome = home + "/.config" }
        if !configHome.isEmpty {
            let candidate = configHome + "/osiris/connections.yaml"
            if fileExists(candidate) { return candidate }
        }
        return nil
    }

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws -> ConnectionsFile {
        let bytes = try InputFile.read(path)
        return try parse(bytes, path: path)
    }

    /// Parses connections file text.
    public static func parse(_ bytes: [UInt8], path: String) throws(ConnectionsFileError) -> ConnectionsFile {
        let document: YAMLDocument
        do {
            document = try YAMLParser.parse(bytes)
        } catch {
            throw ConnectionsFileError(path: path, message: error.message, range: error.range, exitStatus: .configuration)
        }
        if let duplicate = document.duplicateKeys.first {
            throw ConnectionsFileError(path: path, message: "duplicate key '\(duplicate.key)'", range: duplicate.second, exitStatus: .configuration)
        }
        guard let root = document.root else { throw ConnectionsFileError(path: path, message: "the file is empty", exitStatus: .configuration) }
        guard root.mapping != nil else {
            throw ConnectionsFileError(path: path, message: "expected a mapping with 'version' and 'connections'", range: root.range, exitStatus: .configuration)
        }
        if let version = root["version"], version.jsonValue != .int(1) {
            throw ConnectionsFileError(path: path, message: "unsupported version \(version.scalar?.text ?? version.kindName); expected 1", range: version.range, exitStatus: .configuration)
        }
        guard let connections = root["connections"] else {
            throw ConnectionsFileError(path: path, message: "missing key 'connections'", range: root.range, exitStatus: .configuration)
        }
        guard let families = connections.mapping else {
            throw ConnectionsFileError(path: path, message: "'connections' must map families to aliases", range: connections.range, exitStatus: .configuration)
        }
        var entries: [ConnectionEntry] = []
        for family in families {
            guard let aliases = family.value.mapping else {
                throw ConnectionsFileError(
                    path: path, message: "family '\(family.key.keyText)' must map aliases to their fields", range: family.value.range,
                    exitStatus: .configuration)
            }
            for alias in aliases {
                guard let fields = alias.value.mapping else {
                    throw ConnectionsFileError(
                        path: path, message: "connection '@\(family.key.keyText).\(alias.key.keyText)' must be a mapping of fields",
                        range: alias.value.range, exitStatus: .configuration)
                }
                var isDefault = false
                if let flag = alias.value["default"] {
                    guard case .scalar(let scalar) = flag.kind, case .bool(let value) = scalar.value else {
                        throw ConnectionsFileError(path: path, message: "'default' must be true or false", range: flag.range, exitStatus: .configuration)
                    }
                    isDefault = value
                }
                entries.append(ConnectionEntry(
                    family: family.key.keyText, alias: alias.key.keyText, isDefault: isDefault,
                    fields: fields.filter { $0.key.keyText != "default" }.map { pair in
                        ConnectionField(name: pair.key.keyText, value: pair.value.jsonValue, range: pair.value.range)
                    },
                    range: alias.key.range))
            }
        }
        return ConnectionsFile(path: path, entries: entries)
    }

    /// The entries whose family has the same canonical name as `family`.
    public func entries(inFamily family: String) -> [ConnectionEntry] {
        guard let canonical = ConnectionFamily.canonical(family) else { return entries.filter { $0.family == family } }
        return entries.filter { ConnectionFamily.canonical($0.family) == canonical }
    }

    /// The entry an explicit reference names.
    public func lookup(_ reference: ConnectionReference) -> ConnectionLookup {
        let candidates = entries(inFamily: reference.family)
        if candidates.isEmpty {
            return .unknownFamily(family: reference.family, known: Array(Set(entries.map(\.family))).sorted())
        }
        if let entry = candidates.first(where: { $0.alias == reference.alias }) { return .found(entry) }
        return .unknownAlias(family: reference.family, alias: reference.alias, known: candidates.map(\.alias))
    }

    /// The default connection of a component family: the alias marked `default: true`, else the alias
    /// named `default`.
    public func defaultConnection(forFamily family: String) -> ConnectionLookup {
        let candidates = entries(inFamily: family)
        if let marked = candidates.first(where: \.isDefault) { return .found(marked) }
        if let named = candidates.first(where: { $0.alias == "default" }) { return .found(named) }
        return .noDefault(family: family, known: candidates.map(\.alias))
    }
}
