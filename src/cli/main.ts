#!/usr/bin/env node
// placeholder: replaced by the CLI
console.log("hadns");
