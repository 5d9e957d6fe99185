import OML
import OsirisCore
import OsirisDrivers
import OsirisYAML

/// Resolves a step's connection at run time (DESIGN.md §5): the alias from the connections file,
/// `${VAR}` replaced from the environment, every secret registered with the masker as it is read.
public struct ConnectionResolver: Sendable {
    let connections: ConnectionsFile?
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

    /// The connection of a step: the one it names, else its family's default; nil for components that
    /// need none (filesystem, processors, SQLite with a `path`).
    func resolve(_ step: ManifestStep, family: String?) throws(StepError) -> ResolvedConnection? {
        guard let family else { return nil }
        if step.connection == nil {
            if family == "filesystem" { return nil }
            if family == "sqlite", step.config["path"]?.stringValue != nil { return nil }
        }
        guard let connections else {
            let what = step.connection.map { "connection '\($0)'" } ?? "a default '\(family)' connection"
            throw StepError(.configuration, "step '\(step.id)' needs \(what), but no connections file was found (\(searched))")
        }
        let lookup: ConnectionLookup
        if let text = step.connection {
            guard let reference = ConnectionReference(parsing: text) else {
                throw StepError(.configuration, "step '\(step.id)': malformed connection reference '\(text)'")
            }
            lookup = connections.lookup(reference)
        } else {
            lookup = connections.defaultConnection(forFamily: family)
        }
        switch lookup {
        case .found(let entry):
            return try resolve(entry, family: family)
        case .unknownFamily(let name, _):
            throw StepError(.configuration, "step '\(step.id)': no connection family '\(name)' in \(connections.path)")
        case .unknownAlias(let name, let alias, _):
            throw StepError(.configuration, "step '\(step.id)': unknown connection '@\(name).\(alias)' in \(connections.path)")
        case .noDefault(let name, _):
            throw StepError(.configuration, "step '\(step.id)' names no connection and '\(name)' has no default in \(connections.path)")
        }
    }

    /// An entry's fields with every `${VAR}` replaced; an unset variable names itself and the alias.
    func resolve(_ entry: ConnectionEntry, family: String) throws(StepError) -> ResolvedConnection {
        var fields: [String: JSONValue] = [:]
        for pair in entry.fields {
            let key = pair.key.keyText
            var value = pair.value.jsonValue
            if case .string(let text) = value {
                let resolved = try substitute(text, field: key, alias: entry.reference.description)
                value = .string(resolved)
                if Self.isSecretName(key) {
                    registerSecret(resolved)
                }
            }
            // A relative path in a connections file means a path next to that file, wherever the
            // tool runs from.
            if key == "path" || key == "base_dir", case .string(let text) = value, !text.hasPrefix("/"),
               let folder = connections.map({ FileSystem.directory(of: $0.path) }), folder != "." {
                value = .string(folder + "/" + text)
            }
            fields[key] = value
        }
        return ResolvedConnection(
            reference: entry.reference.description, family: ConnectionFamily.canonical(entry.family) ?? family, fields: fields)
    }

    /// Whether a connection field's value is registered as a secret: the names the linter refuses
    /// in OML, plus `url` and any `*_key`, which in a connections file may carry credentials (masking
    /// a value that is not secret costs nothing; printing one that is would).
    static func isSecretName(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return SecretNames.contains(lowered) || lowered == "url" || lowered.hasSuffix("_key")
    }

    /// Registers a secret and, for URLs, the password inside them (`postgres://user:PASSWORD@host/db`).
    private func registerSecret(_ value: String) {
        masker.register(value)
        if let scheme = value.firstRange(of: "://") {
            let rest = value[scheme.upperBound...]
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                if let colon = credentials.firstIndex(of: ":") {
                    let password = String(credentials[credentials.index(after: colon)...])
                    masker.register(password)
                    masker.register(Self.percentDecoded(password))
                }
            }
        }
    }

    private static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
