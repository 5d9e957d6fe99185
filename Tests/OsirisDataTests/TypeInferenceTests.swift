import Testing
import OsirisData

@Suite struct TypeInferenceTests {
    private func inferred(_ values: [String]) throws -> Field {
        try readCSV("v\n" + values.map { $0 + "\n" }.joined()).schema.fields[0]
    }

    @Test(arguments: [
        (["1", "-22", "0", "9223372036854775807"], LogicalType.int64),
        (["1", ""], .int64),
        (["007"], .text),
        (["-0"], .text),
        (["+5"], .text),
        (["9223372036854775808"], .decimal),
        (["12.50", "3", "-0.5"], .decimal),
        (["1.", ".5"], .text),
        (["1e-05", "2.5", "1e+16"], .float64),
        (["1e5"], .text),
        (["1e-05", "3"], .text),
        (["true", "false"], .bool),
        (["True"], .text),
        (["TRUE", "FALSE"], .text),
        (["2024-05-01", "1999-12-31"], .date),
        (["2024-13-01"], .text),
        (["13:45:00", "00:00:00.123"], .time),
        (["24:00:00"], .text),
        (["2024-05-01 13:45:00", "2024-05-01T13:45:00.123456"], .timestamp),
        (["2024-05-01T13:45:00Z", "2024-05-01 13:45:00+02:00", "2024-05-01 13:45:00-08", "2024-05-01 13:45:00+0530"], .timestamptz),
        (["2024-05-01", "2024-05-01 13:45:00"], .text),
        (["2024-05-01 13:45:00", "2024-05-01 13:45:00Z"], .text),
        (["abc", "1"], .text),
        ([" 1"], .text),
        ([""], .text),
    ] as [([String], LogicalType)])
    func inferredType(_ values: [String], _ type: LogicalType) throws {
        #expect(try inferred(values).type == type)
    }

    @Test func decimalPrecisionAndScale() throws {
        let field = try inferred(["12345.1", "1.12345", "-0.5", "7"])
        #expect(field.type == .decimal)
        #expect(field.precision == 10)
        #expect(field.scale == 5)
    }

    @Test func allNullFirstBatchIsText() throws {
        var options = CSVReadOptions()
        options.batchSize = 2
        let (schema, batches) = try readCSV("a,b\n,1\n,2\n5,3\n", options)
        #expect(schema.fields.map(\.type) == [.text, .int64])
        #expect(batches[1].schema.fields[0].type == .text)
        #expect(columnValues(batches, 0) == [.null, .null, .text("5", .text)])
    }

    @Test func laterBatchThatDoesNotFitIsTextInThatBatchOnly() throws {
        var options = CSVReadOptions()
        options.batchSize = 2
        let (schema, batches) = try readCSV("n,d,b\n1,2024-01-01,true\n2,2024-01-02,false\nx,2024-01-03,true\n3,soon,maybe\n4,2024-01-05,false\n", options)
        #expect(schema.fields.map(\.type) == [.int64, .date, .bool])
        #expect(batches.map { $0.schema.fields.map(\.type) } == [
            [.int64, .date, .bool],
            [.text, .text, .text],
            [.int64, .date, .bool],
        ])
        #expect(columnValues(batches, 0) == [.int64(1), .int64(2), .text("x", .text), .text("3", .text), .int64(4)])
        #expect(columnValues(batches, 2) == [.bool(true), .bool(false), .text("true", .text), .text("maybe", .text), .bool(false)])
    }

    @Test func laterBatchWidensDecimalPrecisionAndScale() throws {
        var options = CSVReadOptions()
        options.batchSize = 1
        let (schema, batches) = try readCSV("p\n1.5\n123.25\n1e3\n", options)
        #expect(schema.fields[0] == Field(name: "p", type: .decimal, precision: 2, scale: 1))
        #expect(batches[1].schema.fields[0] == Field(name: "p", type: .decimal, precision: 5, scale: 2))
        #expect(batches[2].schema.fields[0] == Field(name: "p", type: .text))
    }

    @Test func laterBatchIntOverflowIsText() throws {
        var options = CSVReadOptions()
        options.batchSize = 1
        let (_, batches) = try readCSV("n\n1\n99999999999999999999\n", options)
        #expect(columnValues(batches, 0) == [.int64(1), .text("99999999999999999999", .text)])
    }

    @Test func inferenceOffKeepsEveryColumnText() throws {
        var options = CSVReadOptions()
        options.inferTypes = false
        let (schema, batches) = try readCSV("a,b\n1,true\n", options)
        #expect(schema.fields.map(\.type) == [.text, .text])
        #expect(rows(batches) == [[.text("1", .text), .text("true", .text)]])
    }

    @Test func valuesOfInferredTypes() throws {
        let (_, batches) = try readCSV("i,d,f,b,t\n-42,12.50,1e-05,false,2024-05-01 13:45:00\n")
        #expect(rows(batches) == [[.int64(-42), .text("12.50", .decimal), .float64(1e-05), .bool(false),
                                   .text("2024-05-01 13:45:00", .timestamp)]])
    }
}
