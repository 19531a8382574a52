graph [
  directed 1
  name "dowhy-like"
  node [
    id 0
    label "W0"
  ]
  node [
    id 1
    label "v0"
    role "treatment"
  ]
  node [
    id 2
    label "y"
  ]
  node [
    id 3
    label "my var"
  ]
  edge [
    source 0
    target 1
    weight 0.5
  ]
  edge [
    source 0
    target 2
  ]
  edge [
    source 1
    target 2
  ]
  edge [
    source 3
    target 2
  ]
]
