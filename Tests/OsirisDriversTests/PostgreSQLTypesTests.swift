import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// Feeds one COPY text row to a parser.
func appendCopyRow(_ row: String, _ parser: inout PostgreSQLCopyParser, _ builder: inout BatchBuilder) throws {
    let bytes = Array(row.utf8)
    let pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { pointer.deallocate() }
    pointer.copyBytes(from: bytes)
    try parser.appendRow(UnsafeRawBufferPointer(pointer), to: &builder)
}

@Suite struct PostgreSQLTypesTests {
    @Test func typeOIDsMapToLogicalTypes() {
        let expected: [UInt32: LogicalType] = [
            16: .bool, 20: .int64, 21: .int64, 23: .int64, 700: .float64, 701: .float64, 1700: .decimal, 25: .text,
            1043: .text, 1042: .text, 19: .text, 1082: .date, 1083: .time, 1114: .timestamp, 1184: .timestamptz,
            114: .json, 3802: .json, 2950: .uuid, 17: .bytes, 1186: .text,
        ]
        for (oid, type) in expected { #expect(PostgreSQLTypes.logicalType(oid: oid) == type, "oid \(oid)") }
    }

    @Test func numericModifierGivesPrecisionAndScale() {
        // numeric(12,3): ((12 << 16) | 3) + 4
        #expect(PostgreSQLTypes.numericPrecisionScale(modifier: (12 << 16 | 3) + 4) == (12, 3))
        #expect(PostgreSQLTypes.numericPrecisionScale(modifier: -1) == (nil, nil))
        #expect(PostgreSQLTypes.numericPrecisionScale(modifier: (5 << 16 | 0x7FE) + 4) == (5, nil))  // scale -2
    }

    @Test func copyTextRowsAreParsed() throws {
        let schema = Schema([
            Field(name: "i", type: .int64), Field(name: "t", type: .text), Field(name: "b", type: .bytes),
            Field(name: "z", type: .timestamptz), Field(name: "ok", type: .bool), Field(name: "f", type: .float64),
        ])
        var parser = PostgreSQLCopyParser(kinds: PostgreSQLTypes.kinds(schema))
        var builder = BatchBuilder(schema: schema, capacity: 4)
        let rows = [
            "-9223372036854775808\ta\\tb\\nc\\\\d\\101\\x42\t\\\\x00ff0a\t2024-05-01 11:45:00.25+00\tt\t-1.5e-07\n",
            "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n",
            "7\t\t\\\\x\tinfinity\tf\tNaN\n",
        ]
        for row in rows { try appendCopyRow(row, &parser, &builder) }
        let batch = builder.finish()
        let cells = (0..<batch.count).map { row in batch.columns.map { $0.isNull(row) ? "NULL" : $0.string(row) } }
        #expect(cells == [
            ["-9223372036854775808", "a\tb\nc\\dAB", "\\x00ff0a", "2024-05-01T11:45:00.25+00:00", "true", "-1.5e-07"],
            ["NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            ["7", "", "\\x", "infinity", "false", "nan"],
        ])
        #expect(batch.schema == schema)
    }

    @Test func wrongFieldCountIsAnInternalError() {
        var parser = PostgreSQLCopyParser(kinds: [.int64, .verbatim])
        var builder = BatchBuilder(schema: Schema([Field(name: "a", type: .int64), Field(name: "b", type: .text)]))
        let error = #expect(throws: StepError.self) { try appendCopyRow("1\n", &parser, &builder) }
        #expect(error?.code == .internalError)
    }
}
