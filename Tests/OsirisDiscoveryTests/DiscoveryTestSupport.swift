import Foundation
import OML
import OsirisCore
@testable import OsirisDiscovery
@testable import OsirisDrivers
import Synchronization
import Testing

/// The throwaway servers of `scripts/with-servers`, when the tests run under them.
enum TestServers {
    static let environment = ProcessInfo.processInfo.environment
    static var postgres: Bool { environment["OSIRIS_TEST_PG_URL"] != nil }
    static var mariadb: Bool { environment["OSIRIS_TEST_MYSQL_URL"] != nil }

    /// The PostgreSQL server's connection fields, on `database`.
    static func postgresFields(database: String? = nil) -> [String: JSONValue] {
        [
            "host": .string(environment["OSIRIS_TEST_PG_HOST"] ?? "127.0.0.1"),
            "port": .int(Int(environment["OSIRIS_TEST_PG_PORT"] ?? "5432") ?? 5432),
            "database": .string(database ?? environment["OSIRIS_TEST_PG_DATABASE"] ?? "osiris_test"),
            "user": .string(environment["OSIRIS_TEST_PG_USER"] ?? "osiris"),
            "password": .string(environment["OSIRIS_TEST_PG_PASSWORD"] ?? ""),
        ]
    }

    /// The MariaDB server's connection fields, on `database`.
    static func mariadbFields(database: String? = nil) -> [String: JSONValue] {
        [
            "host": .string(environment["OSIRIS_TEST_MYSQL_HOST"] ?? "127.0.0.1"),
            "port": .int(Int(environment["OSIRIS_TEST_MYSQL_PORT"] ?? "3306") ?? 3306),
            "database": .string(database ?? environment["OSIRIS_TEST_MYSQL_DATABASE"] ?? "osiris_test"),
            "user": .string(environment["OSIRIS_TEST_MYSQL_USER"] ?? "osiris"),
            "password": .string(environment["OSIRIS_TEST_MYSQL_PASSWORD"] ?? ""),
        ]
    }

    /// A name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder: Sendable {
    let url: URL
    var path: String { url.path }

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-discovery-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes a file in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }
}

/// A resolver over a connections file written in `folder` with one alias per family given, each as
/// `family: {alias: fields}`; passwords are passed as `${VAR}` so they resolve like a user's.
func resolver(_ folder: TemporaryFolder, _ connections: [(family: String, alias: String, fields: [String: JSONValue])],
              masker: SecretMasker = SecretMasker()) throws -> ConnectionResolver {
    var yaml = "version: 1\nconnections:\n"
    var environment: [String: String] = [:]
    for (family, entries) in Dictionary(grouping: connections, by: \.family) {
        yaml += "  \(family):\n"
        for entry in entries {
            yaml += "    \(entry.alias):\n"
            for (key, value) in entry.fields.sorted(by: { $0.key < $1.key }) {
                if key == "password" {
                    let variable = "OSIRIS_TEST_\(family.uppercased())_\(entry.alias.uppercased())_PASSWORD"
                    environment[variable] = value.stringValue ?? ""
                    yaml += "      password: ${\(variable)}\n"
                } else {
                    yaml += "      \(key): \(JSONWriter.canonicalString(value))\n"
                }
            }
        }
    }
    let path = try folder.write("osiris_connections.yaml", yaml)
    return ConnectionResolver(connections: try ConnectionsFile.load(path: path), searched: path, environment: environment, masker: masker)
}

/// Compares `actual` with the golden file `name` beside the tests; `OSIRIS_RECORD_GOLDENS=1` rewrites
/// the file and fails so the diff is reviewed.
func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens/\(name)")
    if ProcessInfo.processInfo.environment["OSIRIS_RECORD_GOLDENS"] == "1" {
        try Data(actual.utf8).write(to: url)
        Issue.record("recorded \(url.path); unset OSIRIS_RECORD_GOLDENS and review the diff", sourceLocation: sourceLocation)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(actual == expected, sourceLocation: sourceLocation)
}

/// The snapshot's text with its server version replaced, so goldens do not depend on the server.
func withoutServerVersion(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let start = text.firstRange(of: "\"server_version\":\"") else { return text }
    guard let end = text[start.upperBound...].firstIndex(of: "\"") else { return text }
    return String(text[..<start.upperBound]) + "SERVER" + String(text[end...])
}

/// A discoverer that counts how often the catalog is read, around a real one.
final class CountingDiscoverer: Discoverer {
    let inner: any Discoverer
    private let counts = Mutex<(discover: Int, hash: Int)>((0, 0))

    init(_ inner: any Discoverer) { self.inner = inner }

    var discoveries: Int { counts.withLock { $0.discover } }
    var hashes: Int { counts.withLock { $0.hash } }

    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult {
        counts.withLock { $0.discover += 1 }
        return try inner.discover(request)
    }

    func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String? {
        counts.withLock { $0.hash += 1 }
        return try inner.structureHash(request)
    }
}
