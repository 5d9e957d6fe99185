import OML
import OMLCompiler
import OsirisCore
import OsirisHTTP
import OsirisYAML
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What one writer would receive, from a preview run.
public struct PreviewTable: Sendable, Equatable {
    /// The writer's step id.
    public var step: String
    /// The header line and at most the previewed rows, as CSV lines.
    public var lines: [String]
}

/// `--preview N`: runs a draft on at most N rows per extract in a temporary folder, every writer
/// (database writers included) replaced by a CSV file there, so the user sees the data each writer
/// would receive and no real target is touched. The run is `osiris-exec`'s, so that the preview is
/// exactly what the pipeline does.
public struct PipelinePreview: Sendable {
    /// Rows per extract.
    public var rows: Int
    /// The osiris-exec to run.
    public var executable: String
    /// The connections file to give it, if any.
    public var connectionsPath: String?

    /// Creates a preview.
    public init(rows: Int, executable: String, connectionsPath: String?) {
        self.rows = rows
        self.executable = executable
        self.connectionsPath = connectionsPath
    }

    /// `oml` with every extract limited to `rows` and every writer writing `directory/<id>.csv`;
    /// the writers' step ids in order.
    package func rewrite(_ oml: String, directory: String) throws(ChatError) -> (oml: String, writers: [String]) {
        guard let document = try? YAMLParser.parse(oml), let root = document.root,
            case .object(var top) = root.jsonValue, case .array(let steps)? = top["steps"]
        else { throw .previewFailed("the draft does not parse") }
        var writers: [String] = []
        var rewritten: [JSONValue] = []
        for step in steps {
            guard case .object(var object) = step, let component = object["component"]?.stringValue,
                let spec = ComponentRegistry.builtin.spec(named: component), let id = object["id"]?.stringValue
            else { rewritten.append(step); continue }
            var config = object["config"]?.objectValue ?? [:]
            switch spec.role {
            case .extractor:
                if let query = config["query"]?.stringValue {
                    var trimmed = query.trimmingSpaces
                    while trimmed.hasSuffix(";") { trimmed.removeLast() }
                    config["query"] = .string("SELECT * FROM (\(trimmed)) AS osiris_preview LIMIT \(rows)")
                } else if spec.configSchema.properties["limit"] != nil {
                    config["limit"] = .int(min(config["limit"]?.intValue ?? rows, rows))
                }
                object["config"] = .object(config)
            case .writer:
                writers.append(id)
                object["component"] = "filesystem.csv_writer"
                object["mode"] = "write"
                object["config"] = .object(["path": .string("\(directory)/\(id).csv")])
            default: break
            }
            rewritten.append(.object(object))
        }
        top["steps"] = .array(rewritten)
        return (YAMLEmitter.document(.object(top)), writers)
    }

    /// Runs the preview of `oml` (lint-clean) and returns what each writer would receive.
    public func run(_ oml: String, connections: ConnectionsFile?) throws(ChatError) -> [PreviewTable] {
        let directory: String
        do {
            directory = try FileSystem.temporaryDirectory(in: Environment.current["TMPDIR"] ?? "/tmp", prefix: "osiris-preview-")
        } catch {
            throw .previewFailed(error.description)
        }
        defer { FileSystem.remove(directory) }
        let (text, writers) = try rewrite(oml, directory: directory)
        let result: CompileResult
        do {
            result = try Compiler().compile(Array(text.utf8), file: "preview.oml", options: CompileOptions(connections: connections))
        } catch {
            throw .previewFailed(error.description)
        }
        guard let manifest = result.manifest else {
            throw .previewFailed(result.diagnostics.first.map { "\($0.message) [\($0.code)]" } ?? "the preview does not compile")
        }
        let manifestPath = "\(directory)/preview.manifest.json"
        do { try AtomicFile.write(manifest.canonicalBytes, to: manifestPath) } catch { throw .previewFailed(error.description) }
        var arguments = [executable, manifestPath, "--run-dir", "\(directory)/runs"]
        if let connectionsPath { arguments += ["--connections", connectionsPath] }
        let status = Self.spawn(arguments, errors: "\(directory)/exec.err")
        guard status == 0 else {
            let message = (try? InputFile.read("\(directory)/exec.err")).map { String(decoding: $0, as: UTF8.self).trimmingSpaces } ?? ""
            throw .previewFailed("osiris-exec exited with status \(status)\(message.isEmpty ? "" : ": \(message)")")
        }
        return writers.map { id in
            let bytes = (try? InputFile.read("\(directory)/\(id).csv")) ?? []
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            return PreviewTable(step: id, lines: lines.prefix(rows + 1).map(String.init).filter { !$0.isEmpty })
        }
    }

    /// The osiris-exec beside the running executable, else the first on `PATH`; nil when there is none.
    public static func locateOsirisExec(environment: [String: String]) -> String? {
        var candidates: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let me = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = me.lastIndex(of: "/") { candidates.append(String(me[..<slash]) + "/osiris-exec") }
        }
        for folder in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !folder.isEmpty {
            candidates.append("\(folder)/osiris-exec")
        }
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// Runs `arguments` with stdin and stdout on /dev/null and stderr to `errors`; its exit status.
    static func spawn(_ arguments: [String], errors: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
