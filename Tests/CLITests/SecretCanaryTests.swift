import Foundation
import Testing

/// Secret canaries across the tools (issue 13, DESIGN.md §7.7): the servers' real password and a
/// planted wrong one, both given through the connections file and the environment, appear in no
/// output, file, run directory, manifest, snapshot, cache or worker folder, on success and on the error
/// paths: wrong password, server gone, bad SQL that echoes a literal equal to the password, and the
/// sandbox worker. (osiris-chat's API key and request bodies: OsirisChatTests' ChatCommandTests.)
@Suite(.serialized, .enabled(if: TestServers.available, "needs the servers of scripts/with-servers (make test)"))
final class SecretCanaryTests {
    /// The planted wrong password.
    static let wrong = "Canary-Wr0ng-Pw-5d2a"
    /// The servers' real password (scripts/with-servers), secret as much as the planted one.
    static let real = TestServers.environment["OSIRIS_TEST_PG_PASSWORD"] ?? "osiris-test-pw"

    let folder: URL
    /// The TMPDIR of every tool run here, so that their temporary files and worker folders are scanned too.
    var temporary: URL { folder.appendingPathComponent("tmp") }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-canary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        let env = TestServers.environment
        func alias(_ family: String, _ name: String, host: String, port: String, password: String) -> String {
            let prefix = family == "postgres" ? "OSIRIS_TEST_PG" : "OSIRIS_TEST_MYSQL"
            return "    \(name): {host: \(host), port: \(port), database: \(env["\(prefix)_DATABASE"] ?? ""), user: \(env["\(prefix)_USER"] ?? ""), password: \(password)}\n"
        }
        var text = "version: 1\nconnections:\n"
        for (family, prefix) in [("postgres", "OSIRIS_TEST_PG"), ("mysql", "OSIRIS_TEST_MYSQL")] {
            let host = env["\(prefix)_HOST"] ?? "127.0.0.1", port = env["\(prefix)_PORT"] ?? "0"
            text += "  \(family):\n"
            text += alias(family, "real", host: host, port: port, password: "\"${\(prefix)_PASSWORD}\"").replacingOccurrences(of: "    real: {", with: "    real: {default: true, ")
            text += alias(family, "wrong", host: host, port: port, password: "\"${CANARY_PASSWORD}\"")
            text += alias(family, "literal", host: host, port: port, password: "\"\(Self.wrong)\"")
            // Port 1 on loopback: nothing listens, the connection is refused.
            text += alias(family, "gone", host: "127.0.0.1", port: "1", password: "\"${CANARY_PASSWORD}\"")
        }
        try Data(text.utf8).write(to: folder.appendingPathComponent("connections.yaml"))
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Runs a tool in the folder with the canary environment.
    func run(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws -> ToolHarness.Run {
        try ToolHarness.run(
            tool, arguments, in: folder, stdin: stdin,
            environment: ["CANARY_PASSWORD": Self.wrong, "TMPDIR": temporary.path, "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path])
    }

    /// Compiles `steps` (OML step lines) and runs them, locally or in a sandbox.
    func pipeline(_ steps: String, sandbox: Bool = false) throws -> (ToolHarness.Run, compile: ToolHarness.Run) {
        try Data("oml_version: \"0.1.0\"\nname: canary\nsteps:\n\(steps)\n".utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try run("oml-compile", ["--connections", "connections.yaml", "p.oml", "-o", "p.manifest.json"])
        let exec = try run(
            "osiris-exec", ["--connections", "connections.yaml", "--run-dir", "runs", "p.manifest.json"] + (sandbox ? ["--sandbox"] : []))
        return (exec, compile)
    }

    /// Every file under the folder (run directories, outputs, manifest, cache, TMPDIR) and every
    /// output: none holds either password.
    /// Files named in `userText` hold the user's own pipeline text (OML, manifest) and are not scanned.
    func expectNoSecret(_ runs: [ToolHarness.Run], _ what: String, userText: Set<String> = []) throws {
        for run in runs {
            for secret in [Self.wrong, Self.real] {
                #expect(!run.stdout.contains(secret), "\(what): stdout holds a password")
                #expect(!run.stderr.contains(secret), "\(what): stderr holds a password: \(run.stderr)")
            }
        }
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder.path))
        for case let path as String in enumerator
        where path != "connections.yaml" && !userText.contains(String(path.split(separator: "/").last ?? "")) {
            let url = folder.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = try? Data(contentsOf: url)
            else { continue }
            for secret in [Self.wrong, Self.real] {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(what): \(path) holds a password")
            }
        }
    }

    @Test(arguments: ["postgres", "mysql"])
    func successPaths(family: String) throws {
        let table = TestServers.uniqueName("canary")
        if family == "postgres" {
            try TestServers.psql("CREATE TABLE \(table) (id int, v text); INSERT INTO \(table) VALUES (1, 'a'), (2, 'b')")
        } else {
            try TestServers.mariadb("CREATE TABLE \(table) (id int, v text); INSERT INTO \(table) VALUES (1, 'a'), (2, 'b')")
        }
        let steps = """
              - {id: read, component: \(family).extractor, mode: read, config: {connection: "@\(family).real", table: \(table)}}
              - {id: save, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
              - {id: load, component: \(family).writer, mode: write, needs: [read], config: {connection: "@\(family).real", table: \(table)_copy, write_mode: replace}}
            """
        let lint = try run("oml-lint", ["--connections", "connections.yaml", "-"], stdin: Data("oml_version: \"0.1.0\"\nname: canary\nsteps:\n\(steps)\n".utf8))
        #expect(lint.status == 0, "\(lint.stdout)")
        let (local, compile) = try pipeline(steps)
        #expect(compile.status == 0, "\(compile.stderr)")
        #expect(local.status == 0, "\(local.stderr)")
        let (sandboxed, _) = try pipeline(steps, sandbox: true)
        #expect(sandboxed.status == 0, "\(sandboxed.stderr)")
        let discover = try run("osiris-discover", ["--connections", "connections.yaml", "@\(family).real", "--tables", "\(table)*"])
        #expect(discover.status == 0, "\(discover.stderr)")
        #expect(discover.stdout.contains(table))
        try expectNoSecret([lint, compile, local, sandboxed, discover], "\(family) success")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path) == [])
    }

    @Test(arguments: ["postgres", "mysql"])
    func errorPaths(family: String) throws {
        var runs: [ToolHarness.Run] = []
        for (alias, status) in [("wrong", Int32(77)), ("literal", 77), ("gone", 69)] {
            let (exec, compile) = try pipeline("""
                  - {id: read, component: \(family).extractor, mode: read, config: {connection: "@\(family).\(alias)", table: t}}
                  - {id: save, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
                """)
            #expect(compile.status == 0, "\(compile.stderr)")
            #expect(exec.status == status, "\(alias): \(exec.stderr)")
            let discover = try run("osiris-discover", ["--connections", "connections.yaml", "@\(family).\(alias)"])
            #expect(discover.status == status, "discover \(alias): \(discover.stderr)")
            runs += [compile, exec, discover]
            let (sandboxed, _) = try pipeline("""
                  - {id: read, component: \(family).extractor, mode: read, config: {connection: "@\(family).\(alias)", table: t}}
                  - {id: save, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
                """, sandbox: true)
            #expect(sandboxed.status == status, "sandbox \(alias): \(sandboxed.stderr)")
            runs.append(sandboxed)
        }
        // Bad SQL whose error message quotes a literal equal to the real password.
        let echo = family == "postgres"
            ? "SELECT '\(Self.real)'::int AS n" : "SELECT * FROM `\(Self.real)`"
        let (bad, _) = try pipeline("""
              - {id: read, component: \(family).extractor, mode: read, config: {connection: "@\(family).real", query: "\(echo)"}}
              - {id: save, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
            """)
        #expect(bad.status == 1, "\(bad.stderr)")
        #expect(bad.stderr.contains("***"), "\(bad.stderr)")
        runs.append(bad)
        // The query itself holds the literal: the OML and the manifests are the user's text.
        try expectNoSecret(runs, "\(family) errors", userText: ["p.oml", "p.manifest.json", "manifest.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path) == [])
    }
}
