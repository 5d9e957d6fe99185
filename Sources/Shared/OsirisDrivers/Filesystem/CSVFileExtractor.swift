import OsirisCore
import OsirisData

/// `filesystem.csv_extractor`: streams a CSV file (RFC 4180) in batches, with optional type inference.
struct CSVFileExtractor: Extractor {
    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        var path = try context.requiredString("path")
        if !path.hasPrefix("/"), let base = context.connection?.fields["base_dir"]?.stringValue ?? context.connection?.fields["path"]?.stringValue {
            path = base + "/" + path
        }
        try Self.refuseUnsupported(context, path: path)
        var options = CSVReadOptions()
        if let delimiter = context.config("delimiter")?.stringValue { options.delimiter = try Self.byte(delimiter, key: "delimiter", context) }
        if let quote = context.config("quotechar")?.stringValue { options.quote = try Self.byte(quote, key: "quotechar", context) }
        switch context.config("header") {
        case .bool(let flag)?: options.header = flag
        case .int(let row)?:
            options.header = true
            options.headerRow = row
        default: break
        }
        if let encoding = context.config("encoding")?.stringValue { options.encoding = encoding }
        if let skip = context.config("skip_rows")?.intValue { options.skipRows = skip }
        if let limit = context.config("limit")?.intValue { options.limit = limit }
        if let values = context.config("na_values")?.arrayValue { options.naValues = Set(values.compactMap(\.stringValue)) }
        if let infer = context.config("infer_types")?.boolValue { options.inferTypes = infer }
        if let columns = context.config("columns")?.arrayValue { options.columns = columns.compactMap(\.stringValue) }
        options.columnTypes = try Self.declaredTypes(context)

        let reader: CSVReader
        do {
            reader = try CSVReader(path: path, options: options)
        } catch {
            throw Self.stepError(error, context)
        }
        defer { reader.close() }
        try output.start(schema: reader.schema)
        var bytesSoFar = 0
        while true {
            try context.cancellation.check()
            let batch: RecordBatch?
            do {
                batch = try reader.next()
            } catch {
                throw Self.stepError(error, context)
            }
            guard let batch else { break }
            context.progress.read(rows: batch.count, bytes: reader.bytesRead - bytesSoFar)
            bytesSoFar = reader.bytesRead
            try output.send(batch)
        }
    }

    /// Options of the original tool's spec that this reader does not implement fail the step
    /// instead of being ignored: a compressed file would otherwise be read as garbage.
    static func refuseUnsupported(_ context: StepContext, path: String) throws(StepError) {
        let compressedEndings = [".gz", ".bz2", ".zip", ".xz"]
        if context.config("compression").map({ $0 != "infer" }) == true || compressedEndings.contains(where: { path.lowercased().hasSuffix($0) }) {
            throw StepError(.configuration, """
                step '\(context.step.id)': compressed CSV ('\(path)') is not supported yet; decompress it first \
                (for example with gunzip) and read the plain file
                """)
        }
        for key in ["comment"] where context.config(key) != nil {
            throw StepError(.configuration, "step '\(context.step.id)': config '\(key)' is not supported by this build of filesystem.csv_extractor")
        }
        if let dates = context.config("parse_dates"), dates != .bool(false) {
            throw StepError(.configuration, """
                step '\(context.step.id)': 'parse_dates' is not supported; dates and timestamps are recognised \
                by type inference (infer_types: true)
                """)
        }
    }

    /// A reader error as a step error; a value that does not fit its column's type says how to
    /// declare the type (`dtype`).
    static func stepError(_ error: DataError, _ context: StepContext) -> StepError {
        guard error.kind == .typeMismatch, let column = error.column else { return StepError(.run, error.description) }
        let declared = context.config("dtype")?.objectValue?[column] != nil
        let fix = declared
            ? "fix the value or the type declared for '\(column)' in 'dtype'"
            : "declare the column's type in the step's config, for example dtype: {\(column): text}"
        return StepError(.run, "\(error.description); \(fix)")
    }

    /// The type names `dtype` accepts: the logical types, and the names of the original tool (pandas).
    static let typeNames: [String: LogicalType] = [
        "text": .text, "str": .text, "string": .text, "object": .text,
        "int64": .int64, "int": .int64, "integer": .int64, "int32": .int64, "Int64": .int64,
        "float64": .float64, "float": .float64, "double": .float64, "number": .float64,
        "decimal": .decimal, "numeric": .decimal,
        "bool": .bool, "boolean": .bool,
        "date": .date, "time": .time,
        "timestamp": .timestamp, "datetime": .timestamp, "datetime64": .timestamp, "datetime64[ns]": .timestamp,
        "timestamptz": .timestamptz, "json": .json, "uuid": .uuid,
    ]

    /// The column types `dtype` declares (`{amount: decimal, zip: text}`).
    static func declaredTypes(_ context: StepContext) throws(StepError) -> [String: LogicalType] {
        guard let value = context.config("dtype") else { return [:] }
        guard let members = value.objectValue else {
            throw StepError(.configuration, "step '\(context.step.id)': 'dtype' must map column names to types, such as {amount: decimal}")
        }
        var types: [String: LogicalType] = [:]
        for (column, name) in members {
            guard let text = name.stringValue, let type = typeNames[text] ?? typeNames[text.lowercased()] else {
                let known = LogicalType.allCases.filter { $0 != .bytes }.map(\.rawValue).joined(separator: ", ")
                throw StepError(.configuration, "step '\(context.step.id)': 'dtype' gives column '\(column)' an unknown type \(JSONWriter.canonicalString(name)); use one of \(known)")
            }
            types[column] = type
        }
        return types
    }

    /// A one-character option as a byte; `\t` written as two characters means a tab.
    static func byte(_ text: String, key: String, _ context: StepContext) throws(StepError) -> UInt8 {
        if text == "\\t" { return UInt8(ascii: "\t") }
        guard text.utf8.count == 1, let byte = text.utf8.first else {
            throw StepError(.configuration, "step '\(context.step.id)': '\(key)' must be one ASCII character, not '\(text)'")
        }
        return byte
    }
}
