// Must NOT compile: Vehicle.Cabin.Seat.Row1.DriverSide.Position is a uint16 actuator, and a
// string is no number ("is not assignable to parameter of type").

import { connect } from "../../../../generated/demo-car/sdk/typescript/src/index.js";

const { vehicle } = await connect({ url: "wss://localhost:6443" });
await vehicle.cabin.seat.row1.driverSide.position.set("250");
