import Testing
import OsirisData

@Suite struct JSONLinesWriterTests {
    @Test func everyTypeHasItsExactForm() throws {
        let batch = makeBatch([
            ("b", .bool, [.bool(true), .bool(false), .null]),
            ("i", .int64, [.int64(-42), .int64(Int64.max), .null]),
            ("f", .float64, [.float64(1.5), .float64(1e-05), .float64(.nan)]),
            ("d", .decimal, [.text("12.50", .decimal), .text("NaN", .decimal), .text("-0.001", .decimal)]),
            ("t", .text, [.text("Zoë \"quoted\"\n\\", .text), .text("😀東京", .text), .text("", .text)]),
            ("x", .bytes, [.bytes([0xde, 0xad]), .bytes([]), .null]),
            ("day", .date, [.text("2024-05-01", .date), .null, .null]),
            ("tm", .time, [.text("13:45:00", .time), .null, .null]),
            ("ts", .timestamp, [.text("2024-05-01 13:45:00", .timestamp), .null, .null]),
            ("tz", .timestamptz, [.text("2024-05-01T13:45:00Z", .timestamptz), .null, .null]),
            ("j", .json, [.text("{\"a\": [1,\n 2]}", .json), .text("{not json", .json), .text("null", .json)]),
            ("u", .uuid, [.text("8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f", .uuid), .null, .null]),
        ])
        let expected = [
            #"{"b":true,"i":-42,"f":1.5,"d":12.50,"t":"Zoë \"quoted\"\n\\","x":"\\xdead","day":"2024-05-01","tm":"13:45:00","ts":"2024-05-01 13:45:00","tz":"2024-05-01T13:45:00Z","j":{"a": [1,  2]},"u":"8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f"}"#,
            #"{"b":false,"i":9223372036854775807,"f":1e-05,"d":"NaN","t":"😀東京","x":"\\x","day":null,"tm":null,"ts":null,"tz":null,"j":"{not json","u":null}"#,
            #"{"b":null,"i":null,"f":null,"d":-0.001,"t":"","x":null,"day":null,"tm":null,"ts":null,"tz":null,"j":null,"u":null}"#,
        ].map { $0 + "\n" }.joined()
        #expect(try writeJSONLines([batch], schema: batch.schema) == expected)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        var builder = ColumnBuilder(type: .text)
        let bytes: [UInt8] = [0x61, 0xff, 0x62, 0xc3]
        bytes.withUnsafeBytes { builder.appendBytes($0) }
        let batch = RecordBatch(schema: Schema([Field(name: "t", type: .text)]), columns: [builder.finish()])
        #expect(try writeJSONLines([batch], schema: batch.schema) == "{\"t\":\"a\u{FFFD}b\u{FFFD}\"}\n")
    }

    @Test func keysAreEscapedAndKeepColumnOrder() throws {
        let batch = makeBatch([("z\"", .int64, [.int64(1)]), ("a", .int64, [.int64(2)])])
        #expect(try writeJSONLines([batch], schema: batch.schema) == "{\"z\\\"\":1,\"a\":2}\n")
    }

    @Test func controlCharactersAreEscaped() throws {
        let batch = makeBatch([("t", .text, [.text("tab\there\u{1}\u{7f}", .text)])])
        #expect(try writeJSONLines([batch], schema: batch.schema) == "{\"t\":\"tab\\there\\u0001\\u007f\"}\n")
    }
}
