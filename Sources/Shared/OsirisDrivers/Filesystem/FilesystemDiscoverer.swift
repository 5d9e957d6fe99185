import Glibc
import OML
import OsirisCore
import OsirisData

/// Discovery for a folder of data files (`file:DIR`, or a `filesystem` connection's `base_dir`):
/// every `.csv` and `.jsonl` / `.ndjson` file under it is a table — its schema the folder relative
/// to the base (`.` at the top), its name the file's name, its kind `csv` or `jsonl`. Columns and
/// logical types come from the first rows: the CSV reader's own type inference for CSV, the JSON
/// value kinds for JSON lines (a key missing or null on some line makes the column nullable).
struct FilesystemDiscoverer: Discoverer {
    /// How many rows the column types are inferred from.
    static let inferenceRows = 1000

    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult {
        guard let base = (request.connection.fields["base_dir"] ?? request.connection.fields["path"])?.stringValue else {
            throw StepError(.configuration, "connection '\(request.connection.reference)' names no folder: give it a 'base_dir'")
        }
        var errors: [InputError] = []
        let files = DirectoryWalker.files(under: base, errors: &errors) { Self.kind(of: $0) != nil }
        if let error = errors.first { throw StepError(.run, error.description) }
        var tables: [SnapshotTable] = []
        for path in files.sorted() {
            try request.cancellation.check()
            var relative = String(path.dropFirst(base.count))
            while relative.hasPrefix("/") { relative.removeFirst() }
            let name = String(relative.split(separator: "/").last ?? Substring(relative))
            let folder = relative.count > name.count ? String(relative.dropLast(name.count + 1)) : "."
            guard request.selects(schema: folder, name: name), let kind = Self.kind(of: path) else { continue }
            var table = SnapshotTable(schema: folder, name: name, kind: kind, rowEstimate: nil, columns: [], primaryKey: [], foreignKeys: [])
            if request.depth != .tables {
                table.columns = kind == "csv" ? try Self.csvColumns(path) : try Self.jsonLinesColumns(path)
            }
            tables.append(table)
        }
        // The folder's own name; none for `.` or `..`, which would tie the snapshot to where it ran.
        let folderName = base.split(separator: "/").last.map(String.init).flatMap { [".", ".."].contains($0) ? nil : $0 }
        return DiscoveryResult(database: folderName, serverVersion: nil, tables: tables)
    }

    /// `csv` or `jsonl` by the file's ending, nil for other files.
    static func kind(of path: String) -> String? {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".csv") { return "csv" }
        if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") { return "jsonl" }
        return nil
    }

    /// The columns of a CSV file, typed by the reader's inference over its first rows.
    static func csvColumns(_ path: String) throws(StepError) -> [SnapshotColumn] {
        var options = CSVReadOptions()
        options.limit = inferenceRows
        do {
            let reader = try CSVReader(path: path, options: options)
            defer { reader.close() }
            return reader.schema.fields.map { field in
                SnapshotColumn(name: field.name, type: field.type.rawValue, logicalType: field.type.rawValue, nullable: field.nullable)
            }
        } catch {
            throw StepError(.run, error.description)
        }
    }

    /// The columns of a JSON-lines file: the keys of its first objects in the order first seen (sorted within a line: JSON objects have no order).
    static func jsonLinesColumns(_ path: String) throws(StepError) -> [SnapshotColumn] {
        let head = try Self.head(path, bytes: 4 << 20)
        var order: [String] = []
        var types: [String: LogicalType?] = [:]
        var present: [String: Int] = [:]
        var nullable: Set<String> = []
        var rows = 0
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        // A line cut by the byte limit is not a row.
        if head.count == 4 << 20, head.last != UInt8(ascii: "\n"), !lines.isEmpty { lines.removeLast() }
        for (number, line) in lines.prefix(inferenceRows).enumerated() {
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(line))
            } catch {
                throw StepError(.run, "\(path):\(number + 1): \(error.message)")
            }
            guard let object = value.objectValue else { throw StepError(.run, "\(path):\(number + 1): a JSON-lines row is an object") }
            rows += 1
            for key in object.keys.sorted() where types[key] == nil {
                order.append(key)
                types[key] = .some(nil)
            }
            for (key, member) in object {
                present[key, default: 0] += 1
                guard let type = Self.logicalType(of: member) else {
                    nullable.insert(key)
                    continue
                }
                switch types[key] {
                case .some(.none): types[key] = type
                case .some(.some(let known)) where known != type:
                    types[key] = (known == .int64 && type == .float64) || (known == .float64 && type == .int64) ? .float64 : .text
                default: break
                }
            }
        }
        return order.map { key in
            let type = (types[key] ?? nil) ?? .text
            return SnapshotColumn(
                name: key, type: type.rawValue, logicalType: type.rawValue, nullable: nullable.contains(key) || present[key, default: 0] < rows)
        }
    }

    /// The logical type of a JSON value; nil for null.
    static func logicalType(of value: JSONValue) -> LogicalType? {
        switch value {
        case .null: nil
        case .bool: .bool
        case .int: .int64
        case .double: .float64
        case .string: .text
        case .array, .object: .json
        }
    }

    /// Up to `bytes` bytes from the start of a file.
    static func head(_ path: String, bytes limit: Int) throws(StepError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StepError(.run, "cannot read '\(path)': \(systemMessage(errno))") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress! + filled, limit - filled) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return Array(buffer[..<filled])
    }
}
