import Foundation
import Testing
import ZeroMQ

/// Socket tests run synchronously: each socket is created, used and closed on the test's thread.
/// Every wait is bounded by a receive timeout or a poll timeout.
@Suite struct ZMQSocketTests {
    func pair(_ context: ZMQContext, _ server: SocketType, _ client: SocketType, over transport: String = "tcp") throws -> (ZMQSocket, ZMQSocket) {
        let serverSocket = try ZMQSocket(context: context, type: server)
        try serverSocket.bind(transport == "tcp" ? "tcp://127.0.0.1:*" : "inproc://test-\(UUID().uuidString)")
        let clientSocket = try ZMQSocket(context: context, type: client)
        try clientSocket.connect(try serverSocket.lastEndpoint())
        for socket in [serverSocket, clientSocket] { try socket.set(.receiveTimeout, 5000) }
        return (serverSocket, clientSocket)
    }

    @Test(arguments: ["tcp", "inproc"])
    func requestReply(over transport: String) throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let (reply, request) = try pair(context, .reply, .request, over: transport)
        defer { reply.close(); request.close() }
        #expect(try reply.lastEndpoint().hasPrefix(transport == "tcp" ? "tcp://127.0.0.1:" : "inproc://"))
        try request.send(ZMQMessage(string: "MEAS:POW?"))
        let question = try reply.receiveMessage()
        #expect(question.map(\.string) == ["MEAS:POW?"])
        try reply.send(ZMQMessage(string: "1.25E-03"))
        #expect(try request.receiveMessage().map(\.string) == ["1.25E-03"])
    }

    /// Frames of every size class: empty, inline in zmq_msg_t (≤ 33 bytes), heap, and large.
    @Test func multipartFramesKeepTheirBytes() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let (router, dealer) = try pair(context, .router, .dealer)
        defer { router.close(); dealer.close() }
        var generator = SystemRandomNumberGenerator()
        let frames: [[UInt8]] = [[], [1], Array(0..<33), Array(repeating: 7, count: 34),
                                 (0..<1_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }]
        try dealer.send(frames: frames)
        let received = try router.receiveMessage()
        #expect(received.count == frames.count + 1)  // the router prepends the peer's routing id
        #expect(Array(received.dropFirst().map(\.bytes)) == frames)
        #expect(!received.last!.hasMore && received.first!.hasMore)
        // Reply through the routing id.
        try router.send(frames: [received[0].bytes, Array("ack".utf8)])
        #expect(try dealer.receiveMessage().map(\.string) == ["ack"])
    }

    @Test func routingIDSurvivesAndUnknownPeersAreReported() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let router = try ZMQSocket(context: context, type: .router)
        defer { router.close() }
        try router.set(.routerMandatory, 1)
        try router.set(.receiveTimeout, 5000)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context: context, type: .dealer)
        defer { dealer.close() }
        try dealer.set(.routingID, "alice")
        try dealer.connect(try router.lastEndpoint())
        try dealer.send(ZMQMessage(string: "hello"))
        #expect(try router.receiveMessage().map(\.string) == ["alice", "hello"])
        do {
            try router.send(frames: [Array("bob".utf8), Array("lost".utf8)])
            Issue.record("sending to an unknown peer succeeded")
        } catch {
            #expect(error.isHostUnreachable, "\(error)")
        }
    }

    @Test func publishSubscribeFiltersByPrefix() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let (publisher, subscriber) = try pair(context, .publisher, .subscriber)
        defer { publisher.close(); subscriber.close() }
        try subscriber.set(.subscribe, "rates/")
        // Subscriptions travel to the publisher asynchronously: publish until one arrives.
        let poller = ZMQPoller()
        poller.add(subscriber)
        var arrived = false
        for attempt in 0..<200 where !arrived {
            try publisher.send(frames: [Array("visibility/alice".utf8), [UInt8(attempt)]])
            try publisher.send(frames: [Array("rates/alice".utf8), [UInt8(attempt)]])
            arrived = try poller.wait(timeout: .milliseconds(25))[0].readable
        }
        #expect(arrived)
        let message = try subscriber.receiveMessage()
        #expect(message[0].string == "rates/alice")
        // Nothing but rates/ ever arrives.
        while try poller.wait(timeout: .milliseconds(50))[0].readable {
            #expect(try subscriber.receiveMessage()[0].string == "rates/alice")
        }
    }

    @Test func emptyQueuesAndTimeoutsAreTypedErrors() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let socket = try ZMQSocket(context: context, type: .pull)
        defer { socket.close() }
        try socket.bind("tcp://127.0.0.1:*")
        #expect(throws: ZMQError.self) { try socket.receiveFrame(dontWait: true) }
        do { _ = try socket.receiveFrame(dontWait: true) } catch { #expect(error.isWouldBlock) }
        try socket.set(.receiveTimeout, 20)
        #expect(try socket.get(.receiveTimeout) == 20)
        do { _ = try socket.receiveFrame() } catch { #expect(error.isWouldBlock && error.operation == "zmq_msg_recv") }
    }

    @Test func badEndpointsNameTheEndpoint() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let socket = try ZMQSocket(context: context, type: .router)
        defer { socket.close() }
        do {
            try socket.bind("tcp://not a host:1")
            Issue.record("bind succeeded")
        } catch {
            #expect(error.operation == "zmq_bind")
            #expect(error.context == "tcp://not a host:1")
            #expect(error.description.hasPrefix("zmq_bind (tcp://not a host:1): "))
        }
        #expect(throws: ZMQError.self) { try socket.connect("nope://x") }
        #expect(throws: ZMQError.self) { try socket.set(.linger, Int(Int32.max) + 1) }
    }

    @Test func pollerTimesOutAndSeesReadiness() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let (pull, push) = try pair(context, .pull, .push)
        defer { pull.close(); push.close() }
        let poller = ZMQPoller()
        poller.add(pull)
        poller.add(push, readable: false, writable: true)
        let idle = try poller.wait(timeout: .milliseconds(10))
        #expect(!idle[0].readable)
        try push.send(ZMQMessage(string: "tag batch"))
        var readiness = try poller.wait(timeout: .seconds(5))
        while !readiness[0].readable { readiness = try poller.wait(timeout: .seconds(5)) }
        #expect(try pull.receiveFrame().string == "tag batch")
    }

    @Test func terminatingTheContextWakesABlockedReceiver() throws {
        let context = try ZMQContext()
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread {
            // The socket lives on this thread only.
            do throws(ZMQError) {
                let socket = try ZMQSocket(context: context, type: .pull)
                try socket.bind("inproc://blocked")
                ready.signal()
                do throws(ZMQError) { _ = try socket.receiveFrame() } catch { outcome.set(error) }
                socket.close()
            } catch {
                outcome.set(error)
                ready.signal()
            }
            done.signal()
        }
        thread.start()
        #expect(ready.wait(timeout: .now() + 10) == .success)
        let terminator = Thread { context.terminate() }
        terminator.start()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(outcome.error?.isTerminated == true, "\(String(describing: outcome.error))")
    }
}

/// Carries an error from a socket thread to the test.
final class OutcomeBox: @unchecked Sendable {
    // @unchecked: written once by the socket thread before it signals, read after the wait.
    private(set) var error: ZMQError?
    func set(_ error: ZMQError) { self.error = error }
}
