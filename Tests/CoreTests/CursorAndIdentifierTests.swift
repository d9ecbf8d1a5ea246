import Core
import Testing

@Suite struct CursorAndIdentifierTests {
    @Test func cursorRoundTripsAndRejectsForeignText() {
        let cursor = Cursor.encode("usr_0001")
        #expect(Cursor.decode(cursor) == "usr_0001")
        #expect(Cursor.decode("not a cursor") == nil)
        #expect(Cursor.decode(Cursor.encode("a") + "x") != "a")
    }

    @Test func identifiersSortByCreationTime() {
        let early = Identifier.make("usr", at: 1_000)
        let late = Identifier.make("usr", at: 2_000)
        #expect(early < late)
        #expect(early.hasPrefix("usr_"))
        #expect(early.count == "usr_".count + 28)
        #expect(Identifier.make("usr", at: 1_000) != early)
    }

    @Test func uniqueNumbersDoNotRepeatAcrossThreads() async {
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 { group.addTask { (0..<5_000).map { _ in UniqueNumbers.next() } } }
            return await group.reduce(into: [[UInt64]]()) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(Set(all).count == all.count && all.count == 20_000)
        #expect(Identifier.makeUnique("task", at: 2) > Identifier.makeUnique("task", at: 1), "time-ordered like every identifier")
    }

    @Test func aZombiesExitStatusIsReadFromItsStatLine() {
        // As Linux writes it: the exit status is the last field, and the line ends with a newline.
        let tail = String(repeating: "0 ", count: 45)
        #expect(ProcessExit.exitStatus(stat: "11146 (bash) Z 10994 11146 20409 \(tail)768\n") == 3, "exit(3) is 3 << 8")
        #expect(ProcessExit.exitStatus(stat: "11146 (bash) Z 10994 11146 20409 \(tail)9\n") == 137, "SIGKILL")
        #expect(ProcessExit.exitStatus(stat: "11146 (a) b) S 1 2 3 \(tail)0\n") == nil, "still running")
    }

    @Test func pageKeepsOneExtraRowAsTheSignOfMore() {
        let request = PageRequest(limit: 2)
        let page = Page(fetched: ["a", "b", "c"], request: request, key: { $0 })
        #expect(page.items == ["a", "b"])
        #expect(page.nextCursor.flatMap(Cursor.decode) == "b")
        let last = Page(fetched: ["a"], request: request, key: { $0 })
        #expect(last.nextCursor == nil)
        #expect(PageRequest(limit: 10_000).limit == PageRequest.maxLimit)
    }
}
