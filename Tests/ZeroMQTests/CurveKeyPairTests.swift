import Testing
import ZeroMQ

@Suite struct CurveKeyPairTests {
    @Test func generatedKeysAreZ85AndConsistent() throws {
        let keys = try CurveKeyPair.generate()
        #expect(CurveKeyPair.isZ85Key(keys.publicKey) && CurveKeyPair.isZ85Key(keys.secretKey))
        #expect(try CurveKeyPair(secretKey: keys.secretKey) == keys)
        let bytes = try #require(CurveKeyPair.decode(keys.publicKey))
        #expect(bytes.count == 32)
        #expect(CurveKeyPair.encode(bytes) == keys.publicKey)
        #expect(try CurveKeyPair.generate() != keys)
    }

    /// The test vector of the ZMTP CURVE RFC (RFC 26 / libzmq's test_security_curve):
    /// this secret key belongs to this public key.
    @Test func knownKeyPair() throws {
        let keys = try CurveKeyPair(secretKey: "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs")
        #expect(keys.publicKey == "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
    }

    @Test func rejectsMalformedKeys() {
        #expect(throws: ZMQError.self) { try CurveKeyPair(secretKey: "short") }
        #expect(CurveKeyPair.decode(String(repeating: "~", count: 40)) == nil)
        #expect(CurveKeyPair.encode([1, 2, 3]) == nil)
    }

    @Test func curveHandshakeNeedsTheServersKey() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let serverKeys = try CurveKeyPair.generate()
        let server = try ZMQSocket(context: context, type: .router)
        defer { server.close() }
        try server.makeCurveServer(serverKeys, zapDomain: "herald")
        try server.set(.receiveTimeout, 5000)
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = try server.lastEndpoint()

        let good = try ZMQSocket(context: context, type: .dealer)
        defer { good.close() }
        try good.makeCurveClient(try CurveKeyPair.generate(), serverKey: serverKeys.publicKey)
        try good.connect(endpoint)
        try good.send(ZMQMessage(string: "encrypted"))
        #expect(try server.receiveMessage().last?.string == "encrypted")

        // A client that expects another server's key never completes the handshake.
        let impostorKeys = try CurveKeyPair.generate()
        let wrong = try ZMQSocket(context: context, type: .dealer)
        defer { wrong.close() }
        try wrong.makeCurveClient(try CurveKeyPair.generate(), serverKey: impostorKeys.publicKey)
        try wrong.connect(endpoint)
        try wrong.send(ZMQMessage(string: "should not arrive"), dontWait: true)
        let poller = ZMQPoller()
        poller.add(server)
        #expect(try poller.wait(timeout: .milliseconds(500))[0].readable == false)
    }

    @Test func monitorReportsListeningAndHandshake() throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let server = try ZMQSocket(context: context, type: .router)
        defer { server.close() }
        let monitor = try ZMQSocketMonitor(socket: server, context: context)
        defer { monitor.close() }
        try server.bind("tcp://127.0.0.1:*")
        let client = try ZMQSocket(context: context, type: .dealer)
        defer { client.close() }
        try client.connect(try server.lastEndpoint())
        var kinds: [SocketEvent.Kind] = []
        while !kinds.contains(.handshakeSucceeded), let event = try monitor.next(timeout: .seconds(5)) {
            if let kind = event.kind { kinds.append(kind) }
        }
        #expect(kinds.first == .listening)
        #expect(kinds.contains(.accepted))
        #expect(kinds.contains(.handshakeSucceeded))
    }
}
