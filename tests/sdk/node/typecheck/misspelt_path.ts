// Must NOT compile: "isOpn" is no node of the tree ("does not exist on type").

import { connect } from "../../../../generated/demo-car/sdk/typescript/src/index.js";

const { vehicle } = await connect({ url: "wss://localhost:6443" });
await vehicle.cabin.door.row1.driverSide.isOpn.set(true);
