import OML
import OsirisCore

/// A connection given as a URL (a DSN): `postgres://user:pass@host:5432/shop?sslmode=require`,
/// `mysql://user@host/db`, `sqlite:PATH` (also `sqlite:///abs/path`), and the fields it stands for.
public struct ConnectionURL: Sendable, Equatable {
    /// The canonical family: postgres, mysql or sqlite.
    public var family: String
    /// `host`, `port` (an integer), `database`, `user`, `password` as present, each query
    /// parameter (`sslmode`), or `path` for SQLite; percent-decoded.
    public var fields: [String: JSONValue]
    /// The URL without its password, safe to show.
    public var redacted: String

    /// The connection fields that may hold a URL instead of the separate fields.
    public static let fieldNames = ["dsn", "url", "pg_dsn", "connection_string"]

    /// Parses `text` when it is a URL of a known scheme; nil when it is not a URL at all.
    /// `field` and `alias` name where it came from in error messages (which never show the URL:
    /// it may hold a password).
    public static func parse(_ text: String, field: String? = nil, alias: String? = nil) throws(StepError) -> ConnectionURL? {
        let origin = field.map { name in " in field '\(name)'" + (alias.map { " of connection '\($0)'" } ?? "") } ?? ""
        if text.hasPrefix("sqlite:") || text.hasPrefix("sqlite3:") {
            var path = Substring(text.drop { $0 != ":" }.dropFirst())
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else { throw StepError(.configuration, "the SQLite URL\(origin) names no file (sqlite:PATH)") }
            return ConnectionURL(family: "sqlite", fields: ["path": .string(percentDecoded(String(path)))], redacted: text)
        }
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let family: String
        switch scheme {
        case "postgres", "postgresql", "pg": family = "postgres"
        case "mysql", "mariadb": family = "mysql"
        default:
            throw StepError(.configuration, "unsupported URL scheme '\(scheme)'\(origin); use postgres://, mysql:// or sqlite:PATH")
        }
        var rest = text[schemeEnd.upperBound...]
        var fields: [String: JSONValue] = [:]
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                fields[percentDecoded(String(parts[0]))] = .string(percentDecoded(parts.count > 1 ? String(parts[1]) : ""))
            }
            rest = rest[..<question]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let database = rest[rest.index(after: slash)...]
            if !database.isEmpty { fields["database"] = .string(percentDecoded(String(database))) }
        }
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            let user: Substring
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon]
                fields["password"] = .string(percentDecoded(String(credentials[credentials.index(after: colon)...])))
            } else {
                user = credentials
            }
            if !user.isEmpty { fields["user"] = .string(percentDecoded(String(user))) }
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { try setPort(after.dropFirst(), &fields, origin) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            try setPort(authority[authority.index(after: colon)...], &fields, origin)
        }
        if !host.isEmpty { fields["host"] = .string(percentDecoded(String(host))) }
        return ConnectionURL(family: family, fields: fields, redacted: Self.redact(text))
    }

    private static func setPort(_ text: Substring, _ fields: inout [String: JSONValue], _ origin: String) throws(StepError) {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw StepError(.configuration, "the port of the URL\(origin) is not a number from 1 to 65535")
        }
        fields["port"] = .int(port)
    }

    /// The URL with the password between `:` and `@` of its authority removed.
    static func redact(_ text: String) -> String {
        guard let password = rawPassword(in: text), let schemeEnd = text.firstRange(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        guard let range = rest.firstRange(of: ":" + password + "@") else { return text }
        return String(text[..<range.lowerBound]) + "@" + String(text[range.upperBound...])
    }

    /// The password of a URL as written (`postgres://user:PASSWORD@host/db`), or nil.
    static func rawPassword(in text: String) -> String? {
        guard let scheme = text.firstRange(of: "://") else { return nil }
        var rest = text[scheme.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return nil }
        return String(credentials[credentials.index(after: colon)...])
    }

    /// `%XX` escapes decoded (invalid ones kept as written).
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
               let value = UInt8(String(decoding: input[index + 1...index + 2], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
