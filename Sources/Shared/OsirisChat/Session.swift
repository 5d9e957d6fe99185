import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A conversation kept as JSON lines in `.osiris/sessions/<id>.jsonl`, every string masked, so that
/// `--session ID` can resume it. Each line is one event:
///
/// ```json
/// {"event":"state","state":"OML_SYNTHESIS"}
/// {"content":"Request: copy every table to csv","event":"message","role":"user"}
/// {"errors":1,"event":"lint","messages":["unknown table 'ordrs' [OML400]"]}
/// ```
public final class SessionLog {
    /// The session's identifier.
    public let id: String
    /// The file's path.
    public let path: String
    private let masker: SecretMasker
    private var descriptor: Int32 = -1

    /// Where sessions are kept, relative to the working directory.
    public static let directory = ".osiris/sessions"

    /// Opens (creating when needed) the session `id` in `directory`.
    public init(id: String, directory: String = SessionLog.directory, masker: SecretMasker) throws(OutputFileError) {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), !id.hasPrefix(".") else {
            throw OutputFileError(path: id, reason: "a session ID holds only letters, digits, '-', '_' and '.'")
        }
        self.id = id
        self.path = "\(directory)/\(id).jsonl"
        self.masker = masker
        try FileSystem.createDirectories(directory)
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw OutputFileError(path: path, reason: systemMessage(errno)) }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// A new session identifier: the UTC time and a random suffix, sortable by age.
    public static func newID() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(stamp)-\(suffix)"
    }

    /// Appends one event, masked.
    public func record(_ event: String, _ fields: [String: JSONValue] = [:]) {
        var object = fields
        object["event"] = .string(event)
        let line = JSONWriter.line(masker.mask(.object(object)))
        line.withUnsafeBytes { buffer in _ = write(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// The messages recorded in the session at `path`, in order; an empty list when it does not exist.
    public static func messages(id: String, directory: String = SessionLog.directory) throws(ChatError) -> [ChatMessage] {
        let path = "\(directory)/\(id).jsonl"
        guard access(path, F_OK) == 0 else { return [] }
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path) } catch { throw .badSession(path: path, reason: error.reason) }
        var result: [ChatMessage] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let json = try? JSONParser.parse(Array(line)) else { throw .badSession(path: path, reason: "a line is not JSON") }
            guard json["event"]?.stringValue == "message", let role = json["role"]?.stringValue,
                let content = json["content"]?.stringValue
            else { continue }
            result.append(ChatMessage(role: role, content: content))
        }
        return result
    }
}
