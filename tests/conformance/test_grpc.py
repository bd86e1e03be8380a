"""gRPC (TRANSPORT §5.4, PAYLOAD ENCODING): Python `grpcio` with stubs that `grpc_tools.protoc`
generated from the project's schemas/viss_v3_0.proto, against the real demo-car server over
TLS (its self-signed certificate as the only trusted root).

Demo-car paths: Vehicle.Cabin.Seat.Row1.DriverSide.Massage (actuator uint8, allowed 0..3),
Vehicle.Cabin.AmbientLight (actuator uint8[]), Vehicle.Navigation.Destination (actuator
struct Types.Waypoint), Vehicle.Speed (sensor)."""

import json
import time

import grpc
import pytest


MASSAGE = "Vehicle.Cabin.Seat.Row1.DriverSide.Massage"
AMBIENT_LIGHT = "Vehicle.Cabin.AmbientLight"
DESTINATION = "Vehicle.Navigation.Destination"
SPEED = "Vehicle.Speed"
TIMEOUT_S = 5.0

SUCCESS, ERROR = 0, 1
RESPONSE, EVENT = 0, 1


@pytest.fixture(scope="module")
def server(launch):
    return launch.demo_car()


def tls_channel(endpoints):
    """A channel trusting only the server's self-signed certificate."""
    assert endpoints.grpc_port and endpoints.grpc_tls, "the demo car serves gRPC over TLS"
    credentials = grpc.ssl_channel_credentials(root_certificates=endpoints.cert.read_bytes())
    return grpc.secure_channel(f"localhost:{endpoints.grpc_port}", credentials)


@pytest.fixture(scope="module")
def channel(server):
    with tls_channel(server.endpoints) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
        yield channel


@pytest.fixture(scope="module")
def viss(channel, stubs):
    return stubs.grpc.VISSStub(channel)


def get(viss, stubs, path, request_id="1", **fields):
    return viss.GetRequest(stubs.pb.GetRequestMessage(Path=path, RequestId=request_id, **fields),
                           timeout=TIMEOUT_S)


def set_(viss, stubs, path, value):
    return viss.SetRequest(stubs.pb.SetRequestMessage(Path=path, Value=value, RequestId="s"),
                           timeout=TIMEOUT_S)


def filters(stubs, *expressions):
    """FilterExpressions from (variant name, FilterValue keyword arguments) pairs."""
    expression = stubs.pb.FilterExpressions.FilterExpression
    return stubs.pb.FilterExpressions(FilterExp=[
        expression(Variant=expression.FilterVariant.Value(variant), Value=expression.FilterValue(**value))
        for variant, value in expressions])


def assert_error(error_response, number, reason):
    assert (error_response.Number, error_response.Reason) == (number, reason), error_response
    assert error_response.Description


def single_value(response):
    assert response.Status == SUCCESS, response.ErrorResponse
    [package] = response.SuccessResponse.DataPack.Data
    [point] = package.Dp
    assert point.Ts.endswith("Z")
    return point.Value


def test_get_answers_with_the_value_its_request_id_and_a_timestamp(viss, stubs):
    response = get(viss, stubs, "Vehicle.VehicleIdentification.Brand", request_id="g-1")
    assert response.RequestId == "g-1" and response.Ts.endswith("Z")
    assert single_value(response)  # an attribute with a default


def test_set_then_get_scalar_array_and_struct_values(viss, stubs):
    for path, value in [(MASSAGE, "2"), (AMBIENT_LIGHT, '["10","20","30"]'),
                        (DESTINATION, '{"Name":"Depot","Point":{"Latitude":"48.1","Longitude":"11.5"},"Priority":"2"}')]:
        answer = set_(viss, stubs, path, value)
        assert answer.Status == SUCCESS and answer.RequestId == "s" and answer.Ts, answer
        got = single_value(get(viss, stubs, path))
        assert json.loads(got) == json.loads(value) if value.startswith(("[", "{")) else got == value


def test_paths_filter_returns_one_package_per_match(viss, stubs):
    set_(viss, stubs, MASSAGE, "1")
    response = get(viss, stubs, "Vehicle.Cabin", Filter=filters(
        stubs, ("PATHS", {"ValuePaths": {"RelativePath": ["Seat.Row1.DriverSide.Massage", "AmbientLight"]}})))
    assert response.Status == SUCCESS, response.ErrorResponse
    paths = sorted(package.Path for package in response.SuccessResponse.DataPack.Data)
    assert paths == [AMBIENT_LIGHT, MASSAGE]


def test_metadata_travels_as_the_json_text_of_the_metadata_object(viss, stubs):
    response = get(viss, stubs, MASSAGE, Filter=filters(stubs, ("METADATA", {"ValueMetadata": {"Tree": "0"}})))
    assert response.Status == SUCCESS, response.ErrorResponse
    assert not response.SuccessResponse.HasField("DataPack")
    metadata = json.loads(response.SuccessResponse.Metadata)
    node = json.dumps(metadata)
    assert '"actuator"' in node and '"uint8"' in node, metadata


def test_history_returns_the_values_set_before_the_current_one(viss, stubs):
    for value in ("0", "3", "1"):
        set_(viss, stubs, MASSAGE, value)
    response = get(viss, stubs, MASSAGE, Filter=filters(stubs, ("HISTORY", {"ValueHistory": {"TimePeriod": "PT1H"}})))
    assert response.Status == SUCCESS, response.ErrorResponse
    [package] = response.SuccessResponse.DataPack.Data
    values = [point.Value for point in package.Dp]
    # oldest first; the current value ("1") is not history
    assert values[-2:] == ["0", "3"], values


@pytest.mark.parametrize("request_fields,number,reason", [
    ({"Path": "Vehicle.Nope"}, "404", "unavailable_data"),
    ({"Path": MASSAGE, "DataCompression": "9+9"}, "404", "unavailable_data"),
    ({"Path": "Vehicle.Cabin", "Filter": "bad-filter"}, "400", "bad_request"),
])
def test_get_errors_carry_the_spec_error(viss, stubs, request_fields, number, reason):
    if request_fields.get("Filter") == "bad-filter":
        # a timebased filter on get: subscribe-only (CORE §7)
        request_fields = {**request_fields,
                          "Filter": filters(stubs, ("TIMEBASED", {"ValueTimebased": {"Period": "100"}}))}
    response = viss.GetRequest(stubs.pb.GetRequestMessage(RequestId="e", **request_fields), timeout=TIMEOUT_S)
    assert response.Status == ERROR and response.RequestId == "e"
    assert_error(response.ErrorResponse, number, reason)


@pytest.mark.parametrize("path,value", [(SPEED, "1"), (MASSAGE, "7"), (MASSAGE, "not a number"),
                                        ("Vehicle.Cabin", "1")])
def test_set_errors_are_400_invalid_data(viss, stubs, path, value):
    answer = set_(viss, stubs, path, value)
    assert answer.Status == ERROR
    assert_error(answer.ErrorResponse, "400", "invalid_data")


def on_change(stubs):
    """A change filter: an event whenever the value changes (v3 subscribe needs a filter)."""
    return filters(stubs, ("CHANGE", {"ValueChange": {"LogicOperator": "ne", "Diff": "0"}}))


def subscribe(viss, stubs, path, filter_=None):
    request = stubs.pb.SubscribeRequestMessage(Path=path, RequestId="sub")
    request.Filter.CopyFrom(filter_ if filter_ is not None else on_change(stubs))
    return viss.SubscribeRequest(request, timeout=30)


def test_subscribe_events_then_unsubscribe_ends_the_stream(viss, stubs):
    set_(viss, stubs, MASSAGE, "0")
    stream = subscribe(viss, stubs, MASSAGE)
    first = next(stream)
    assert (first.MType, first.Status) == (RESPONSE, SUCCESS), first
    assert first.Response.RequestId == "sub"
    subscription_id = first.Response.SubscriptionId
    assert subscription_id
    seen = []
    for value in ("1", "2", "3"):
        set_(viss, stubs, MASSAGE, value)
        event = next(stream)
        assert (event.MType, event.Status) == (EVENT, SUCCESS), event
        assert event.Event.SubscriptionId == subscription_id and event.Event.Ts
        [package] = event.Event.SuccessResponse.DataPack.Data
        seen.append(package.Dp[-1].Value)
    assert seen == ["1", "2", "3"]
    answer = viss.UnsubscribeRequest(
        stubs.pb.UnsubscribeRequestMessage(SubscriptionId=subscription_id, RequestId="u"), timeout=TIMEOUT_S)
    assert answer.Status == SUCCESS and answer.RequestId == "u", answer
    assert list(stream) == [], "the stream ends with its subscription"
    again = viss.UnsubscribeRequest(stubs.pb.UnsubscribeRequestMessage(SubscriptionId=subscription_id),
                                    timeout=TIMEOUT_S)
    assert_error(again.ErrorResponse, "404", "unavailable_data")


def test_two_streams_get_distinct_ids_and_only_their_own_events(viss, stubs):
    speed_stream = subscribe(viss, stubs, "Vehicle.Cabin.Temperature")
    massage_stream = subscribe(viss, stubs, MASSAGE)
    first_a, first_b = next(speed_stream), next(massage_stream)
    assert first_a.Status == SUCCESS and first_b.Status == SUCCESS
    assert first_a.Response.SubscriptionId != first_b.Response.SubscriptionId
    set_(viss, stubs, MASSAGE, "0")
    set_(viss, stubs, MASSAGE, "2")
    event = next(massage_stream)
    assert event.Event.SubscriptionId == first_b.Response.SubscriptionId
    assert event.Event.SuccessResponse.DataPack.Data[0].Path == MASSAGE
    speed_stream.cancel()
    massage_stream.cancel()


def test_a_refused_subscribe_is_one_error_message_and_the_end_of_the_stream(viss, stubs):
    messages = list(subscribe(viss, stubs, "Vehicle.Nope"))
    assert len(messages) == 1
    [only] = messages
    assert (only.MType, only.Status) == (RESPONSE, ERROR)
    assert_error(only.Response.ErrorResponse, "404", "unavailable_data")
    curvelog_on_bool = list(subscribe(viss, stubs, MASSAGE, filters(
        stubs, ("CURVELOG", {"ValueCurvelog": {"MaxErr": "x", "BufSize": "3"}}))))
    assert_error(curvelog_on_bool[0].Response.ErrorResponse, "400", "bad_request")


def test_a_cancelled_stream_frees_its_subscription(launch, stubs):
    """With room for one subscription stream (`--max-connections 1`), a new subscribe is
    refused until the cancelled stream's task has ended: polling with subscribes never
    ends the old subscription itself (an unsubscribe would, if it won the race with the
    server noticing the cancel). Once the room is free, the old id names nothing."""
    with tls_channel(launch.demo_car("--max-connections", "1").endpoints) as channel:
        viss = stubs.grpc.VISSStub(channel)
        stream = subscribe(viss, stubs, MASSAGE)
        subscription_id = next(stream).Response.SubscriptionId
        stream.cancel()
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            retry = subscribe(viss, stubs, MASSAGE)
            try:
                assert next(retry).Status == SUCCESS
                break
            except grpc.RpcError as refused:
                assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused
                assert time.monotonic() < deadline, "the cancelled stream still holds its room"
                time.sleep(0.02)
        retry.cancel()
        answer = viss.UnsubscribeRequest(stubs.pb.UnsubscribeRequestMessage(SubscriptionId=subscription_id),
                                         timeout=TIMEOUT_S)
        assert answer.Status == ERROR, "still subscribed after cancel"
        assert_error(answer.ErrorResponse, "404", "unavailable_data")


def test_subscription_ids_cannot_be_guessed(viss, stubs):
    """Any caller may unsubscribe by id, so ids are not a count."""
    streams = [subscribe(viss, stubs, MASSAGE) for _ in range(3)]
    ids = [int(next(stream).Response.SubscriptionId) for stream in streams]
    for stream in streams:
        stream.cancel()
    assert len(set(ids)) == 3 and all(b - a != 1 for a, b in zip(ids, ids[1:])), ids
    assert max(ids) > 1_000_000, ids


def test_a_message_over_the_size_limit_is_refused_and_the_channel_lives(viss, stubs):
    with pytest.raises(grpc.RpcError) as refused:
        get(viss, stubs, "Vehicle." + "A" * 100_000)
    # tonic's status for a message over max_decoding_message_size (--max-message-bytes)
    assert refused.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "65536" in refused.value.details()
    assert single_value(get(viss, stubs, "Vehicle.VehicleIdentification.Brand"))


def test_the_token_may_come_as_metadata_or_in_the_message(viss, stubs):
    # The demo car has no `validate` tags, so a token is carried but never needed here
    # (test_access_control.py checks tokens in both forms against a tagged tree).
    request = stubs.pb.GetRequestMessage(Path="Vehicle.VehicleIdentification.Brand", RequestId="t",
                                         Authorization="token-in-message")
    assert single_value(viss.GetRequest(request, timeout=TIMEOUT_S))
    request.ClearField("Authorization")
    response = viss.GetRequest(request, metadata=[("authorization", "Bearer token-in-metadata")],
                               timeout=TIMEOUT_S)
    assert single_value(response)


def test_the_server_tree_advertises_grpc_and_protobuf(viss, stubs, server):
    protocols = json.loads(single_value(get(viss, stubs, "Server.Support.Protocol")))
    assert "grpc" in protocols, protocols
    encodings = json.loads(single_value(get(viss, stubs, "Server.Support.Encoding")))
    assert "protobuf" in encodings, encodings
    port = single_value(get(viss, stubs, "Server.Config.Protocol.Grpc.Protobuf.PortNum"))
    assert int(port) == server.endpoints.grpc_port
    assert single_value(get(viss, stubs, "Server.Config.Protocol.Websocket.Protobuf.SubProtocol")) == "VISS-protoenc"


def test_plaintext_is_refused_on_the_tls_port(server, stubs):
    with grpc.insecure_channel(f"127.0.0.1:{server.endpoints.grpc_port}") as plain:
        stub = stubs.grpc.VISSStub(plain)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetRequest(stubs.pb.GetRequestMessage(Path=SPEED), timeout=TIMEOUT_S)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_insecure_serves_h2c_only_when_chosen(launch, stubs):
    server = launch.demo_car("--insecure")
    assert server.endpoints.grpc_port and not server.endpoints.grpc_tls
    with grpc.insecure_channel(f"127.0.0.1:{server.endpoints.grpc_port}") as plain:
        stub = stubs.grpc.VISSStub(plain)
        response = stub.GetRequest(stubs.pb.GetRequestMessage(Path="Vehicle.VehicleIdentification.Brand"),
                                   timeout=TIMEOUT_S)
    assert single_value(response)


def test_calls_beyond_the_stream_cap_wait_until_a_stream_ends(launch, stubs):
    """`--max-concurrent-streams 2` is the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS the server
    announces: with two subscription streams open, a third call waits (here until its
    deadline) and is served as soon as one stream ends."""
    with tls_channel(launch.demo_car("--max-concurrent-streams", "2").endpoints) as channel:
        viss = stubs.grpc.VISSStub(channel)
        first = subscribe(viss, stubs, MASSAGE)
        second = subscribe(viss, stubs, "Vehicle.Cabin.Temperature")
        assert next(first).Status == SUCCESS and next(second).Status == SUCCESS
        with pytest.raises(grpc.RpcError) as waiting:
            viss.GetRequest(stubs.pb.GetRequestMessage(Path=SPEED, RequestId="w"), timeout=0.5)
        assert waiting.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        first.cancel()
        assert single_value(get(viss, stubs, "Vehicle.VehicleIdentification.Brand"))
        second.cancel()
