import OML
import OsirisCore

/// Resolves connections (DESIGN.md §5) for every tool that connects: the runner, discovery and chat.
///
/// A connection is named by a reference (`@pg.shop`), by its family alone (the family's default
/// alias), or by a URL (`postgres://user:pass@host:5432/shop?sslmode=require`, `mysql://...`,
/// `sqlite:PATH`). Resolving it replaces every `${VAR}` from the environment, expands a `dsn`/`url`
/// field into the fields it carries, merges step-level overrides (`host`, `port`, `schema`) once, and
/// registers every secret with the masker as soon as it is read. Errors are configuration errors
/// (exit 78) that name the variable or alias, never a value.
public struct ConnectionResolver: Sendable {
    /// The connections file found, if any.
    public let connections: ConnectionsFile?
    let searched: String
    let environment: [String: String]
    let masker: SecretMasker

    /// A resolver over the connections file found (if any); `searched` says where it was looked for.
    public init(connections: ConnectionsFile?, searched: String, environment: [String: String], masker: SecretMasker) {
        self.connections = connections
        self.searched = searched
        self.environment = environment
        self.masker = masker
    }

    /// The connection `reference` names, or `family`'s default when it is nil, with `overrides` merged
    /// over its fields. `requester` (such as `step 'extract'`) starts every error message when given.
    public func resolve(
        _ reference: ConnectionReference?, family: String, overrides: [String: JSONValue] = [:], requester: String? = nil
    ) throws(StepError) -> ResolvedConnection {
        let prefix = requester.map { "\($0): " } ?? ""
        guard let connections else {
            let what = reference.map { "connection '\($0)'" } ?? "a default '\(family)' connection"
            throw StepError(.configuration, "\(requester.map { "\($0) needs" } ?? "needs") \(what), but no connections file was found (\(searched))")
        }
        let lookup = reference.map(connections.lookup) ?? connections.defaultConnection(forFamily: family)
        switch lookup {
        case .found(let entry):
            var resolved = try resolve(entry, family: family)
            for (key, value) in overrides where value != .null { resolved.fields[key] = value }
            return resolved
        case .unknownFamily(let name, let known):
            throw StepError(.configuration, "\(prefix)no connection family '\(name)' in \(connections.path)\(Self.listing(known, "families"))")
        case .unknownAlias(let name, let alias, let known):
            throw StepError(.configuration, "\(prefix)unknown connection '@\(name).\(alias)' in \(connections.path)\(Self.listing(known, "aliases"))")
        case .noDefault(let name, let known):
            throw StepError(.configuration, """
                \(prefix)no connection named and '\(name)' has no default in \(connections.path) (mark one alias \
                'default: true')\(Self.listing(known, "aliases"))
                """)
        }
    }

    /// A connection named the way `osiris-discover` and `osiris-chat` accept it: `@family.alias`, a
    /// family alone (its default alias), or a URL (`postgres://...`, `mysql://...`, `sqlite:PATH`).
    public func resolve(_ text: String) throws(StepError) -> ResolvedConnection {
        if text.hasPrefix("@") {
            guard let reference = ConnectionReference(parsing: text) else {
                throw StepError(.configuration, "malformed connection reference '\(text)' (expected '@family.alias')")
            }
            return try resolve(reference, family: reference.family)
        }
        if let parsed = try ConnectionURL.parse(text) {
            registerSecrets(parsed.fields)
            return ResolvedConnection(reference: parsed.redacted, family: parsed.family, fields: parsed.fields)
        }
        guard ConnectionFamily.canonical(text) != nil else {
            throw StepError(.configuration, """
                '\(text)' is neither a connection reference ('@family.alias'), a family \
                (\(Set(ConnectionFamily.spellings.values).sorted().joined(separator: ", "))) nor a URL
                """)
        }
        return try resolve(nil, family: text)
    }

    /// The connection of a step: the one it names, else its component family's default, with the
    /// step's overrides of connection fields its spec does not forbid (`host`, `port`, `schema`)
    /// merged once; nil for components that need none (filesystem, processors, SQLite with a `path`).
    public func resolve(_ step: ManifestStep, family: String?) throws(StepError) -> ResolvedConnection? {
        guard let family else { return nil }
        if step.connection == nil {
            if family == "filesystem" { return nil }
            if family == "sqlite", step.config["path"]?.stringValue != nil { return nil }
        }
        var reference: ConnectionReference?
        if let text = step.connection {
            guard let parsed = ConnectionReference(parsing: text) else {
                throw StepError(.configuration, "step '\(step.id)': malformed connection reference '\(text)'")
            }
            reference = parsed
        }
        var overrides: [String: JSONValue] = [:]
        if let spec = ComponentRegistry.builtin.spec(named: step.component) {
            for field in spec.connectionFields where field.policy != .forbidden && !spec.secretKeys.contains(field.name) {
                if let value = step.config[field.name], value != .null { overrides[field.name] = value }
            }
        }
        return try resolve(reference, family: family, overrides: overrides, requester: "step '\(step.id)'")
    }

    /// An entry's fields with every `${VAR}` replaced and a `dsn`/`url` expanded into the fields it
    /// carries (fields written out win); an unset variable names itself and the alias.
    func resolve(_ entry: ConnectionEntry, family: String) throws(StepError) -> ResolvedConnection {
        var fields: [String: JSONValue] = [:]
        let alias = entry.reference.description
        for field in entry.fields {
            var value = field.value
            if case .string(let text) = value {
                let resolved = try substitute(text, field: field.name, alias: alias)
                value = .string(resolved)
                if Self.isSecretField(field.name) { registerSecret(resolved) }
            }
            // A relative path in a connections file means a path next to that file, wherever the
            // tool runs from.
            if field.name == "path" || field.name == "base_dir", case .string(let text) = value, !text.hasPrefix("/"),
               let folder = connections.map({ FileSystem.directory(of: $0.path) }), folder != "." {
                value = .string(folder + "/" + text)
            }
            fields[field.name] = value
        }
        let canonical = ConnectionFamily.canonical(entry.family) ?? family
        for key in ConnectionURL.fieldNames {
            guard case .string(let text)? = fields[key], let parsed = try ConnectionURL.parse(text, field: key, alias: alias) else { continue }
            guard ConnectionFamily.serves(connection: parsed.family, component: canonical) else {
                throw StepError(.configuration, "field '\(key)' of connection '\(alias)' is a \(parsed.family) URL in a \(canonical) family")
            }
            registerSecrets(parsed.fields)
            for (name, value) in parsed.fields where fields[name] == nil { fields[name] = value }
            break
        }
        return ResolvedConnection(reference: alias, family: canonical, fields: fields)
    }

    /// Whether a connection field's value is registered as a secret: the names the linter refuses
    /// in OML, plus `url` and any `*_key`, which in a connections file may carry credentials (masking
    /// a value that is not secret costs nothing; printing one that is would).
    public static func isSecretField(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return SecretNames.contains(lowered) || lowered == "url" || lowered.hasSuffix("_key") || ConnectionURL.fieldNames.contains(lowered)
    }

    private static func listing(_ names: [String], _ what: String) -> String {
        names.isEmpty ? "" : "; its \(what): \(names.sorted().joined(separator: ", "))"
    }

    private func registerSecrets(_ fields: [String: JSONValue]) {
        for (key, value) in fields where Self.isSecretField(key) {
            if let text = value.stringValue { registerSecret(text) }
        }
    }

    /// Registers a secret and, for URLs, the password inside them (`postgres://user:PASSWORD@host/db`),
    /// as written and percent-decoded.
    private func registerSecret(_ value: String) {
        masker.register(value)
        if let password = ConnectionURL.rawPassword(in: value) {
            masker.register(password)
            masker.register(ConnectionURL.percentDecoded(password))
        }
    }

    /// `${VAR}` replaced from the environment; `$${` is a literal `${`.
    private func substitute(_ text: String, field: String, alias: String) throws(StepError) -> String {
        guard text.containsBytes("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                result += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            result += rest[..<start.lowerBound]
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else {
                throw StepError(.configuration, "environment variable \(name) is not set (field '\(field)' of connection '\(alias)')")
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
