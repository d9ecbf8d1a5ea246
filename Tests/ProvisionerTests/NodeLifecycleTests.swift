@testable import Provisioner
import Testing

@Suite struct NodeLifecycleTests {
    @Test func theHappyPathRunsFromEnrolledToActiveAndBack() throws {
        var state = NodeState.enrolled
        for action in [NodeAction.inspect, .inspected, .allocate, .deploy, .deployed, .release, .released] {
            state = try NodeLifecycle.apply(action, to: state, node: "n1")
        }
        #expect(state == .available)
    }

    @Test func invalidActionsNameTheStateAndWhatIsAllowed() {
        #expect(throws: ProvisionerError.invalidTransition(node: "n1", state: .inspecting, action: .allocate, allowed: [.inspected, .fail])) {
            try NodeLifecycle.apply(.allocate, to: .inspecting, node: "n1")
        }
        #expect(throws: ProvisionerError.self) { try NodeLifecycle.apply(.inspect, to: .retired, node: "n1") }
        #expect(NodeLifecycle.allowedActions(in: .retired).isEmpty)
    }

    @Test func everyStateIsReachableAndOnlyRetiredIsFinal() throws {
        var reached: Set<NodeState> = [.enrolled]
        var frontier: [NodeState] = [.enrolled]
        while let state = frontier.popLast() {
            for action in NodeLifecycle.allowedActions(in: state) {
                let next = try NodeLifecycle.apply(action, to: state, node: "n")
                if reached.insert(next).inserted { frontier.append(next) }
            }
        }
        #expect(reached == Set(NodeState.allCases))
        #expect(NodeState.allCases.filter { NodeLifecycle.allowedActions(in: $0).isEmpty } == [.retired])
        #expect(NodeLifecycle.isBusy(.inspecting) && !NodeLifecycle.isBusy(.available))
    }
}

@Suite struct NodePickerTests {
    typealias Candidate = NodePicker.Candidate

    @Test func theFabricThatNeedsFewestNodesWinsBiggestNodesFirst() {
        let candidates = [Candidate(id: "a", fabric: "f1", size: 8), Candidate(id: "b", fabric: "f1", size: 4),
                          Candidate(id: "c", fabric: "f2", size: 8), Candidate(id: "d", fabric: "f2", size: 8),
                          Candidate(id: "e", fabric: "f1", size: 4)]
        #expect(NodePicker.pick(candidates, count: 16)?.map(\.id) == ["c", "d"])
        #expect(NodePicker.pick(candidates, count: 12)?.map(\.id) == ["a", "b"])
    }

    @Test func noSingleFabricFallsBackToAllNodesAndTooFewIsNil() {
        let candidates = [Candidate(id: "a", fabric: "f1", size: 8), Candidate(id: "b", fabric: "f2", size: 8)]
        #expect(NodePicker.pick(candidates, count: 16)?.map(\.id) == ["a", "b"])
        #expect(NodePicker.pick(candidates, count: 17) == nil)
    }
}
