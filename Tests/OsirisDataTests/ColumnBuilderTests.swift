import Testing
import OsirisData

@Suite struct ColumnBuilderTests {
    private func values(_ column: Column) -> [Value] { (0..<column.count).map { column.value($0) } }

    @Test func int64IntoFloat64ColumnIsConverted() {
        var builder = ColumnBuilder(type: .float64)
        builder.append(1.5)
        builder.append(Int64(2))
        let column = builder.finish()
        #expect(column.type == .float64)
        #expect(values(column) == [.float64(1.5), .float64(2)])
    }

    @Test func float64IntoInt64ColumnWidensToFloat64() {
        var builder = ColumnBuilder(type: .int64)
        builder.append(Int64(3))
        builder.appendNull()
        builder.append(0.25)
        #expect(builder.type == .float64)
        let column = builder.finish()
        #expect(values(column) == [.float64(3), .null, .float64(0.25)])
    }

    @Test func boolIntoNumericColumnBecomesANumber() {
        var integers = ColumnBuilder(type: .int64)
        integers.append(true)
        integers.append(.bool(false))
        #expect(values(integers.finish()) == [.int64(1), .int64(0)])
        var floats = ColumnBuilder(type: .float64)
        floats.append(true)
        #expect(values(floats.finish()) == [.float64(1)])
    }

    @Test func textIntoInt64ColumnTurnsItIntoText() {
        var builder = ColumnBuilder(type: .int64)
        builder.append(Int64(-7))
        builder.appendNull()
        builder.append(.text("n/a", .text))
        #expect(builder.type == .text)
        let column = builder.finish()
        #expect(values(column) == [.text("-7", .text), .null, .text("n/a", .text)])
        #expect(column.string(1) == "")
    }

    @Test func mismatchedValuesTurnColumnsIntoText() {
        var bools = ColumnBuilder(type: .bool)
        bools.append(true)
        bools.append(Int64(5))
        #expect(values(bools.finish()) == [.text("true", .text), .text("5", .text)])

        var floats = ColumnBuilder(type: .float64)
        floats.append(2.5)
        floats.append(.bytes([0xab]))
        #expect(values(floats.finish()) == [.text("2.5", .text), .text("\\xab", .text)])

        var bytes = ColumnBuilder(type: .bytes)
        bytes.append(.bytes([1, 2]))
        bytes.append(string: "x")
        #expect(values(bytes.finish()) == [.text("\\x0102", .text), .text("x", .text)])

        var dates = ColumnBuilder(type: .date)
        dates.append(.text("2024-05-01", .date))
        dates.append(.text("13:00:00", .time))
        #expect(values(dates.finish()) == [.text("2024-05-01", .text), .text("13:00:00", .text)])
    }

    @Test func textualColumnsKeepTheirTypeForPlainStrings() {
        var decimals = ColumnBuilder(type: .decimal)
        decimals.append(string: "12.50")
        decimals.append(Int64(7))
        let column = decimals.finish()
        #expect(column.type == .decimal)
        #expect(values(column) == [.text("12.50", .decimal), .text("7", .decimal)])
    }

    @Test func finishResetsToTheDeclaredType() {
        var builder = ColumnBuilder(type: .int64)
        builder.append(.text("x", .text))
        #expect(builder.finish().type == .text)
        #expect(builder.type == .int64)
        #expect(builder.count == 0)
        builder.append(Int64(1))
        #expect(values(builder.finish()) == [.int64(1)])
    }

    @Test func copiesOfABuilderAreIndependent() {
        var first = ColumnBuilder(type: .text)
        first.append(string: "a")
        var second = first
        second.append(string: "b")
        first.append(string: "c")
        #expect(values(first.finish()) == [.text("a", .text), .text("c", .text)])
        #expect(values(second.finish()) == [.text("a", .text), .text("b", .text)])
    }

    @Test func batchBuilderReportsWidenedTypes() {
        var builder = BatchBuilder(schema: Schema([Field(name: "n", type: .int64), Field(name: "d", type: .decimal, precision: 5, scale: 2)]))
        builder.columns[0].append(Int64(1))
        builder.columns[0].append(1.5)
        builder.columns[1].append(string: "1.25")
        builder.columns[1].append(.float64(2))
        #expect(builder.count == 2)
        let batch = builder.finish()
        #expect(batch.schema.fields == [Field(name: "n", type: .float64), Field(name: "d", type: .text)])
        #expect(batch.count == 2)
        #expect(builder.count == 0)
    }

    @Test func accessorsForEveryType() {
        let batch = makeBatch([
            ("b", .bool, [.bool(true)]),
            ("i", .int64, [.int64(Int64.min)]),
            ("f", .float64, [.float64(-0.0)]),
            ("x", .bytes, [.bytes([0x0f, 0xa0])]),
            ("j", .json, [.text("{\"a\":1}", .json)]),
            ("u", .uuid, [.text("8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f", .uuid)]),
        ])
        #expect(batch.columns.map { $0.string(0) } == ["true", "-9223372036854775808", "-0.0", "\\x0fa0", "{\"a\":1}",
                                                       "8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f"])
        #expect(batch.columns[0].bool(0))
        #expect(batch.columns[1].int64(0) == Int64.min)
        #expect(batch.columns[2].float64(0).sign == .minus)
        #expect(batch.columns[3].withBytes(0) { Array($0) } == [0x0f, 0xa0])
        #expect(batch.byteCount > 0)
        #expect(LogicalType.allCases.filter(\.isTextual) == [.decimal, .text, .date, .time, .timestamp, .timestamptz, .json, .uuid])
        #expect(LogicalType.allCases.filter(\.isByteBacked).count == 9)
    }
}
