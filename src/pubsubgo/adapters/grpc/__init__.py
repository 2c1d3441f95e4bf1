"""The gRPC edge (DESIGN §4b): ``pubsubgo.v1.PubSub`` and go-broker's ``broker.Broker``,
served by ``grpc.aio`` in the broker's process, over the same services as REST."""
