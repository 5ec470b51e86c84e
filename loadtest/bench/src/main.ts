console.log("bench: not yet implemented");
